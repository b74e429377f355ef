import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import { zipFiles } from '../zip';
import { parseJson } from '../questions';
import {
  courseActivityId,
  PLAYER_FILES,
  scorm12Manifest,
  scorm2004Manifest,
  testActivityId,
  tincanXml,
  type CourseInfo,
  type PackageFormatName,
} from './manifest';

/** The player's static files (everything but data.js), shipped with the service and read at
 * run time: the package is self-contained (no CDN, nothing fetched but the LRS in xAPI). */
const PLAYER_DIR = join(__dirname, '..', '..', 'player');

/** What the player reads (data.js: `window.PACKAGE = ...`): the course and its tests with the
 * expected answers (the player scores in the browser, as a package without a server must). */
export function playerData(format: PackageFormatName, course: CourseInfo, tests: Test[]) {
  return {
    format,
    course: { ...course, activityId: courseActivityId(course.externalId) },
    tests: tests.map((t) => ({
      id: t.id,
      externalId: t.externalId,
      title: t.title,
      description: t.description,
      activityId: testActivityId(course.externalId, t.externalId),
      passingScorePercent: t.passingScorePercent ?? null,
      blocks: t.blocks.map((b) => ({
        title: b.title,
        questions: b.questions.map((q) => ({
          id: q.id,
          type: q.type,
          title: q.title,
          text: q.text,
          media: q.media,
          choices: parseJson('choicesJson', q.choicesJson),
          expected: parseJson('expectedJson', q.expectedJson),
          maxScore: q.maxScore,
        })),
      })),
    })),
  };
}

/** The zip of a course package: its manifest (imsmanifest.xml or tincan.xml) and the player
 * with the tests' data. Deterministic but for the data (fixed dates in the zip entries). */
export async function buildPackage(format: PackageFormatName, course: CourseInfo, tests: Test[]): Promise<Buffer> {
  const data = playerData(format, course, tests);
  const manifestTests = data.tests.map((t) => ({
    title: t.title,
    description: t.description,
    activityId: t.activityId,
    passingScorePercent: t.passingScorePercent,
  }));
  const files = new Map<string, string | Buffer>();
  if (format === 'xapi') files.set('tincan.xml', tincanXml(course, manifestTests));
  else files.set('imsmanifest.xml', (format === 'scorm12' ? scorm12Manifest : scorm2004Manifest)(course, manifestTests));
  for (const name of PLAYER_FILES) {
    // "</" cannot end a script early: data.js is its own file, but keep it inert anyway.
    const content =
      name === 'data.js' ? `window.PACKAGE = ${JSON.stringify(data).replace(/</g, '\\u003c')};\n` : await readFile(join(PLAYER_DIR, name));
    files.set(name, content);
  }
  return zipFiles(files);
}
