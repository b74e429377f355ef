import { randomBytes, randomUUID } from 'node:crypto';
import { checkId, checkIds, checkText, DomainError, invalidArgument, notFound, type Queryable } from '@assistants/kit';
import {
  PackageFormat,
  type GetPackageResponse,
  type PackageSummary,
  type PublishTestsRequest,
} from '@assistants/proto/gen/assessment/v1/packages';
import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import { LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import { Caller } from '../caller';
import type { Deps } from '../deps';
import { PERMISSIONS } from '../permissions';
import { loadTest, toTest, type TestRow } from '../tests';
import type { CourseInfo, PackageFormatName } from './manifest';
import { buildPackage } from './package';

/*
 * T4, LMS publication: the selected tests packaged as one course (a zip, kept here) and that
 * course created in the catalogue on the caller's behalf (the catalogue decides: catalog:write,
 * and the uniqueness of the external id). Each test becomes a lesson of type L of the course
 * ("<external id>-T<n>") and a SCO / activity of the package.
 */

export const MAX_TESTS = 50;
/** A zip travels whole in one gRPC answer (4 MiB by default for the clients). */
export const MAX_ZIP_BYTES = 3.5 * 1024 * 1024;
/** The catalogue's unique id is at most 100 characters; the lessons add "-T<n>". */
const MAX_EXTERNAL_ID = 95;

const FORMATS: Record<number, PackageFormatName> = {
  [PackageFormat.PACKAGE_FORMAT_SCORM_12]: 'scorm12',
  [PackageFormat.PACKAGE_FORMAT_SCORM_2004]: 'scorm2004',
  [PackageFormat.PACKAGE_FORMAT_XAPI]: 'xapi',
};
const FORMAT_ENUM = Object.fromEntries(Object.entries(FORMATS).map(([k, v]) => [v, Number(k)])) as Record<PackageFormatName, PackageFormat>;

type PackageRow = {
  id: string;
  format: PackageFormatName;
  course_name: string;
  external_id: string;
  author: string;
  description: string;
  target_server: string;
  test_ids: string[];
  course_id: string;
  file_name: string;
  size: number;
  created_by: string;
  created_at: Date;
};

const toSummary = (r: PackageRow): PackageSummary => ({
  id: r.id,
  format: FORMAT_ENUM[r.format],
  courseName: r.course_name,
  externalId: r.external_id,
  author: r.author,
  description: r.description,
  targetServer: r.target_server,
  testIds: r.test_ids,
  courseId: r.course_id,
  size: Number(r.size),
  fileName: r.file_name,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

function checkServer(format: PackageFormatName, value: string): string {
  const server = checkText('targetServer', value, { required: format === 'xapi', max: 2_000 });
  if (!server) return '';
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    // Refused below.
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw invalidArgument('targetServer', `targetServer must be an http or https URL${format === 'xapi' ? ' (the LRS endpoint)' : ''}`);
  }
  return server;
}

/** A generated external id: TESTS-<date>-<6 hex>, unlikely to be taken (the catalogue says). */
const generatedExternalId = () =>
  `TESTS-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex').toUpperCase()}`;

function checkCourse(req: PublishTestsRequest, format: PackageFormatName): CourseInfo {
  const externalId = checkText('externalId', req.externalId, { max: MAX_EXTERNAL_ID }) || generatedExternalId();
  if (/\s/.test(externalId)) throw invalidArgument('externalId', 'externalId must not contain spaces');
  return {
    name: checkText('courseName', req.courseName, { required: true, max: 255 }),
    externalId,
    author: checkText('author', req.author, { max: 255 }),
    description: checkText('description', req.description, { max: 4_000 }),
    targetServer: checkServer(format, req.targetServer),
  };
}

/** The tests, in the order asked, each in the caller's tests:read scope (NOT_FOUND naming
 * testIds[i] otherwise, as for an unknown one). */
async function loadTests(q: Queryable, caller: Caller, ids: string[]): Promise<Test[]> {
  const tests: Test[] = [];
  for (const [i, id] of ids.entries()) {
    const row = (await loadTest(q, id)) as TestRow | undefined;
    if (!row || !caller.covers(PERMISSIONS.testsRead, row.organisation_path)) throw notFound(`no test with id ${id}`, `testIds[${i}]`);
    tests.push(await toTest(q, row));
  }
  return tests;
}

/** Errors of the catalogue named by this request's fields. */
function fromCatalog(err: unknown): never {
  if (err instanceof DomainError && err.field) {
    const field = err.field.startsWith('lessons[')
      ? 'externalId'
      : ({ code: 'externalId', name: 'courseName', description: 'description', provider: 'author' } as Record<string, string>)[err.field];
    if (field) throw new DomainError(err.code, `catalogue: ${err.message}`, field);
  }
  throw err;
}

export async function publishTests(deps: Deps, actorId: string, req: PublishTestsRequest): Promise<PackageSummary> {
  const caller = await Caller.load(deps.authority, actorId);
  caller.scope(PERMISSIONS.testsRead);
  const format = FORMATS[req.format];
  if (!format) throw invalidArgument('format', 'format must be SCORM 1.2, SCORM 2004 or xAPI');
  const testIds = checkIds('testIds', req.testIds, { required: true }).map((id) => id.toLowerCase());
  if (testIds.length > MAX_TESTS) throw invalidArgument('testIds', `a package holds at most ${MAX_TESTS} tests`);
  const duplicate = testIds.findIndex((id, i) => testIds.indexOf(id) !== i);
  if (duplicate >= 0) throw invalidArgument(`testIds[${duplicate}]`, `test ${testIds[duplicate]} is given twice`);
  const course = checkCourse(req, format);
  const tests = await loadTests(deps.db, caller, testIds);
  const zip = await buildPackage(format, course, tests);
  if (zip.length > MAX_ZIP_BYTES) {
    throw invalidArgument('testIds', `the package would weigh ${zip.length} bytes, over ${MAX_ZIP_BYTES}: publish fewer tests at once`);
  }

  // The catalogue refuses an external id already taken (or a caller without catalog:write)
  // before anything is stored here.
  const created = await deps.upstreams.catalog.courses
    .createCourse({
      fields: { code: course.externalId, name: course.name, description: course.description, provider: course.author },
      audienceIds: [],
      lessons: tests.map((t, i) => ({
        code: `${course.externalId}-T${i + 1}`,
        name: t.title.slice(0, 255),
        type: LessonType.LESSON_TYPE_L,
      })),
    })
    .catch(fromCatalog);
  const courseId = created.course!.id;
  const id = randomUUID();
  const fileName = `${course.externalId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${format}.zip`;
  try {
    const { rows } = await deps.db.query<PackageRow>(
      `INSERT INTO packages (id, format, course_name, external_id, author, description, target_server, test_ids, course_id, file_name, zip, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING id, format, course_name, external_id, author, description, target_server, test_ids, course_id, file_name,
                 octet_length(zip) AS size, created_by, created_at`,
      [
        id,
        format,
        course.name,
        course.externalId,
        course.author,
        course.description,
        course.targetServer,
        testIds,
        courseId,
        fileName,
        zip,
        caller.userId,
      ],
    );
    return toSummary(rows[0]);
  } catch (err) {
    // Not kept here: the course would point to nothing, so it goes too.
    await deps.upstreams.catalog.courses.deleteCourse({ id: courseId }).catch(() => undefined);
    throw err;
  }
}

/** The package and its zip, if the caller may read every test it packages (NOT_FOUND
 * otherwise, as if it did not exist). */
export async function getPackage(deps: Deps, actorId: string, rawId: string): Promise<GetPackageResponse> {
  const caller = await Caller.load(deps.authority, actorId);
  caller.scope(PERMISSIONS.testsRead);
  const id = checkId('id', rawId);
  const { rows } = await deps.db.query<PackageRow & { zip: Buffer }>('SELECT *, octet_length(zip) AS size FROM packages WHERE id = $1', [
    id,
  ]);
  const row = rows[0];
  if (!row) throw notFound(`no package with id ${id}`, 'id');
  for (const testId of row.test_ids) {
    const test = await loadTest(deps.db, testId);
    if (!test || !caller.covers(PERMISSIONS.testsRead, test.organisation_path)) throw notFound(`no package with id ${id}`, 'id');
  }
  return { package: toSummary(row), zip: row.zip };
}
