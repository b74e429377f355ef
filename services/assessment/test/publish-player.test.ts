import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import type { CourseInfo, PackageFormatName } from '../src/publish/manifest';
import { buildPackage } from '../src/publish/package';
import { unzipFiles } from '../src/zip';

/**
 * The course packages' player in a real browser (Debian's chromium through playwright-core):
 * each package is unzipped and served by a local HTTP server; for SCORM it runs in a frame
 * of an LMS page whose runtime is scorm-again (window.API for 1.2, window.API_1484_11 for
 * 2004); for xAPI it is launched as an LMS would (tincan.xml's launch plus endpoint, auth,
 * actor, registration) and its statements are received by a small LRS on the same server.
 * The learner answers every question type by clicking and typing; the test asserts what the
 * LMS recorded: completion, success, raw and scaled score, session time.
 */

const CHROMIUM = '/usr/bin/chromium';
// The package's built files (its main entry lives beside them in dist/).
const SCORM_AGAIN = dirname(require.resolve('scorm-again'));

const question = (type: string, title: string, text: string, choices: unknown, expected: unknown, maxScore: number) => ({
  id: `${type}-id`,
  type,
  title,
  text,
  media: [],
  choicesJson: choices === null ? '' : JSON.stringify(choices),
  expectedJson: JSON.stringify(expected),
  maxScore,
});

/** Every question type; 10 points in all (free text is graded by hand: not counted). */
const QUIZ: Test = {
  id: '11111111-1111-4111-8111-111111111111',
  externalId: 'QUIZ-1',
  title: 'Safety quiz',
  description: 'Every kind of question',
  organisationId: '22222222-2222-4222-8222-222222222222',
  courseId: '',
  lessonId: '',
  passingScorePercent: 60,
  maxScore: 15,
  createdAt: '',
  updatedAt: '',
  blocks: [
    {
      id: 'b1',
      title: 'Choices',
      questions: [
        question(
          'single_choice',
          'Capital of France',
          'Which city?',
          [
            { id: 'a', label: 'Paris' },
            { id: 'b', label: 'Lyon' },
          ],
          { choiceId: 'a' },
          2,
        ),
        question(
          'multiple_choice',
          'Pick the fruits',
          '',
          [
            { id: 'apple', label: 'Apple' },
            { id: 'leek', label: 'Leek' },
            { id: 'pear', label: 'Pear' },
          ],
          { choiceIds: ['apple', 'pear'] },
          2,
        ),
        question('true_false', 'The sky is blue', '', null, { value: true }, 1),
        question(
          'matching',
          'Capitals',
          '',
          {
            left: [
              { id: 'fr', label: 'France' },
              { id: 'de', label: 'Germany' },
            ],
            right: [
              { id: 'paris', label: 'Paris' },
              { id: 'berlin', label: 'Berlin' },
            ],
          },
          {
            pairs: [
              { left: 'fr', right: 'paris' },
              { left: 'de', right: 'berlin' },
            ],
          },
          2,
        ),
      ],
    },
    {
      id: 'b2',
      title: 'Open',
      questions: [
        question(
          'ordering',
          'Crossing a road',
          '',
          [
            { id: 's2', label: 'Look' },
            { id: 's1', label: 'Stop' },
            { id: 's3', label: 'Go' },
          ],
          { order: ['s1', 's2', 's3'] },
          1,
        ),
        question('fill_in', 'Fruits', 'The ___ is red and the ___ is yellow', null, { blanks: [['apple', 'Apple'], ['banana']] }, 1),
        question('numeric', 'Pi to 2 decimals', '', null, { value: 3.14, tolerance: 0.005 }, 1),
        question('free_text', 'Explain', 'Why?', null, { modelAnswer: 'Because.' }, 5),
      ],
    },
  ],
};

/** A second test of the same course, without a pass mark: completed whatever the score. */
const SURVEY: Test = {
  ...QUIZ,
  id: '33333333-3333-4333-8333-333333333333',
  externalId: 'SURVEY-1',
  title: 'Survey',
  passingScorePercent: undefined,
  blocks: [{ id: 'b3', title: 'One', questions: [question('true_false', 'Was it useful', '', null, { value: true }, 1)] }],
};

let browser: Browser;
let server: Server;
let base: string;
/** Served files: /pkg/<format>/<file> (each package unzipped). */
const files = new Map<string, Buffer>();
const received: { headers: IncomingHttpHeaders; body: unknown }[] = [];

/** The LMS page: a scorm-again runtime exposing window.API (1.2) or window.API_1484_11
 * (2004), recording the calls and every value set, and the SCO in a frame. */
const LMS_PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script src="/scorm-again/scorm12.js"></script><script src="/scorm-again/scorm2004.js"></script>
<script>
  var q = new URLSearchParams(location.search);
  window.calls = [];
  window.values = {};
  if (q.get('format') === 'scorm12') {
    window.API = new Scorm12API({ logLevel: 5 });
    ['LMSInitialize', 'LMSCommit', 'LMSFinish'].forEach(function (m) { API.on(m, function () { calls.push(m); }); });
    API.on('LMSSetValue.cmi.*', function (element, value) { values[element] = value; });
  } else {
    window.API_1484_11 = new Scorm2004API({ logLevel: 5 });
    ['Initialize', 'Commit', 'Terminate'].forEach(function (m) { API_1484_11.on(m, function () { calls.push(m); }); });
    API_1484_11.on('SetValue.cmi.*', function (element, value) { values[element] = value; });
  }
</script></head><body>
<script>document.write('<iframe id="sco" width="900" height="900" src="/pkg/' + q.get('format') + '/index.html?test=' + q.get('test') + '"></iframe>');</script>
</body></html>`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.xml': 'application/xml' };

async function serve(): Promise<void> {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'POST' && url.pathname === '/lrs/statements') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      });
      return;
    }
    if (url.pathname === '/lms.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(LMS_PAGE);
    if (url.pathname.startsWith('/scorm-again/')) {
      readFile(join(SCORM_AGAIN, url.pathname.slice('/scorm-again/'.length).replace(/[^a-z0-9.]/g, ''))).then(
        (body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
      return;
    }
    const body = files.get(url.pathname);
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(url.pathname)] ?? 'application/octet-stream' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function unzip(format: PackageFormatName, targetServer: string): Promise<void> {
  const course: CourseInfo = { name: 'Safety', externalId: `SAFE-${format}`, author: 'Ann Author', description: 'Two tests', targetServer };
  for (const [name, content] of await unzipFiles(await buildPackage(format, course, [QUIZ, SURVEY])))
    files.set(`/pkg/${format}/${name}`, content);
}

beforeAll(async () => {
  await serve();
  await unzip('scorm12', 'https://lms.example.test/');
  await unzip('scorm2004', '');
  // xAPI: the package's own endpoint is this LRS (used when the launch gives none).
  await unzip('xapi', `${base}/lrs/`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  // The browser's keep-alive connections would hold the server (and the worker) open.
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** Answers the quiz by clicking and typing: all right, or wrong on the single choice, the
 * multiple choice and the matching (4 of 10 points: 40%). */
async function answerQuiz(sco: Frame, wrong: boolean): Promise<void> {
  await sco.getByLabel(wrong ? 'Lyon' : 'Paris', { exact: true }).check();
  await sco.getByLabel('Apple', { exact: true }).check();
  await sco.getByLabel(wrong ? 'Leek' : 'Pear', { exact: true }).check();
  await sco.getByLabel('True', { exact: true }).check();
  await sco.getByLabel('France').selectOption({ label: wrong ? 'Berlin' : 'Paris' });
  await sco.getByLabel('Germany').selectOption({ label: 'Berlin' });
  await sco.getByRole('button', { name: 'Move up: Stop' }).click();
  await sco.getByLabel('Blank 1').fill('apple');
  await sco.getByLabel('Blank 2').fill(' Banana ');
  await sco.getByLabel('Number').fill('3,141');
  await sco.getByLabel('Answer').fill('Because.');
}

async function finish(sco: Frame): Promise<string> {
  await sco.getByRole('button', { name: 'Finish' }).click();
  await sco.locator('#sent[data-done]').waitFor();
  expect(await sco.locator('#sent').getAttribute('data-done')).toBe('ok');
  return (await sco.locator('#result').textContent())!;
}

/** Plays test `test` of the SCORM package in the LMS page; what the LMS recorded. */
async function playScorm(format: 'scorm12' | 'scorm2004', test: number, answer: (sco: Frame) => Promise<void>) {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/lms.html?format=${format}&test=${test}`);
    const sco = await scoFrame(page);
    await answer(sco);
    const shown = await finish(sco);
    const recorded = await page.evaluate<{ calls: string[]; values: Record<string, string> }>('({ calls, values })');
    return { shown, ...recorded };
  } finally {
    await page.close();
  }
}

async function scoFrame(page: Page): Promise<Frame> {
  await page.locator('#sco').waitFor();
  const frame = await (await page.$('#sco'))!.contentFrame();
  await frame!.locator('#finish').waitFor();
  return frame!;
}

const TIMESPAN_12 = /^\d{4}:\d{2}:\d{2}\.\d{2}$/;
const ISO_DURATION = /^PT(\d+H)?(\d+M)?\d+(\.\d+)?S$/;

it('SCORM 1.2: every question type answered right is passed at 100, reported through window.API', async () => {
  const { shown, calls, values } = await playScorm('scorm12', 0, (sco) => answerQuiz(sco, false));
  expect(shown).toContain('Score: 10 / 10 (100%) — passed');
  expect(calls).toEqual(['LMSInitialize', 'LMSCommit', 'LMSFinish']);
  expect(values).toMatchObject({
    'cmi.core.lesson_status': 'passed',
    'cmi.core.score.raw': '100',
    'cmi.core.score.min': '0',
    'cmi.core.score.max': '100',
  });
  expect(values['cmi.core.session_time']).toMatch(TIMESPAN_12);
});

it('SCORM 1.2: wrong answers fail below the pass mark with the score in percent', async () => {
  const { shown, values } = await playScorm('scorm12', 0, (sco) => answerQuiz(sco, true));
  expect(shown).toContain('Score: 4 / 10 (40%) — failed');
  expect(values).toMatchObject({ 'cmi.core.lesson_status': 'failed', 'cmi.core.score.raw': '40', 'cmi.core.score.max': '100' });
});

it('SCORM 1.2: a test without a pass mark is completed (the second SCO of the course)', async () => {
  const { values } = await playScorm('scorm12', 1, (sco) => sco.getByLabel('False', { exact: true }).check());
  expect(values).toMatchObject({ 'cmi.core.lesson_status': 'completed', 'cmi.core.score.raw': '0' });
});

it('SCORM 2004: passed with raw, max and scaled scores and an ISO 8601 session time, through window.API_1484_11', async () => {
  const { shown, calls, values } = await playScorm('scorm2004', 0, (sco) => answerQuiz(sco, false));
  expect(shown).toContain('passed');
  expect(calls).toEqual(['Initialize', 'Commit', 'Terminate']);
  expect(values).toMatchObject({
    'cmi.completion_status': 'completed',
    'cmi.success_status': 'passed',
    'cmi.score.raw': '10',
    'cmi.score.min': '0',
    'cmi.score.max': '10',
    'cmi.score.scaled': '1',
    'cmi.exit': 'normal',
  });
  expect(values['cmi.session_time']).toMatch(ISO_DURATION);
});

it('SCORM 2004: wrong answers are completed but failed, scaled 0.4', async () => {
  const { values } = await playScorm('scorm2004', 0, (sco) => answerQuiz(sco, true));
  expect(values).toMatchObject({
    'cmi.completion_status': 'completed',
    'cmi.success_status': 'failed',
    'cmi.score.raw': '4',
    'cmi.score.max': '10',
    'cmi.score.scaled': '0.4',
  });
});

describe('xAPI', () => {
  const actor = { objectType: 'Agent', name: 'Lea Learner', mbox: 'mailto:lea@example.test' };

  /** tincan.xml's launch of the test, as an LMS would open it, plus `extra` parameters. */
  async function launch(test: number, extra: Record<string, string>, answer: (sco: Frame) => Promise<void>) {
    const tincan = files.get('/pkg/xapi/tincan.xml')!.toString('utf8');
    const launches = [...tincan.matchAll(/<launch lang="und">([^<]*)<\/launch>/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    const url = `${base}/pkg/xapi/${launches[test + 1]}&${new URLSearchParams(extra).toString()}`;
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.locator('#finish').waitFor();
      await answer(page.mainFrame());
      return await finish(page.mainFrame());
    } finally {
      await page.close();
    }
  }

  it('posts completed and passed statements with the score and duration to the launch endpoint, with its auth', async () => {
    received.length = 0;
    // The LMS's endpoint comes after the package's own in the launch URL and wins.
    const lrs = `${base}/lrs/`;
    await launch(
      0,
      { endpoint: lrs, auth: 'Basic bG1zOnNlY3JldA==', actor: JSON.stringify(actor), registration: '44444444-4444-4444-8444-444444444444' },
      (sco) => answerQuiz(sco, false),
    );
    expect(received).toHaveLength(1);
    const [{ headers, body }] = received;
    expect(headers.authorization).toBe('Basic bG1zOnNlY3JldA==');
    expect(headers['x-experience-api-version']).toBe('1.0.3');
    const statements = body as {
      actor: unknown;
      verb: { id: string };
      object: { id: string };
      result: { score: unknown; success: boolean; completion: boolean; duration: string };
      context: { registration: string; contextActivities: { parent: { id: string }[] } };
    }[];
    expect(statements.map((s) => s.verb.id)).toEqual(['http://adlnet.gov/expapi/verbs/completed', 'http://adlnet.gov/expapi/verbs/passed']);
    for (const s of statements) {
      expect(s.actor).toEqual(actor);
      expect(s.object.id).toBe('urn:assistants:course:SAFE-xapi:test:QUIZ-1');
      expect(s.result).toMatchObject({ score: { raw: 10, min: 0, max: 10, scaled: 1 }, success: true, completion: true });
      expect(s.result.duration).toMatch(ISO_DURATION);
      expect(s.context.registration).toBe('44444444-4444-4444-8444-444444444444');
      expect(s.context.contextActivities.parent[0].id).toBe('urn:assistants:course:SAFE-xapi');
    }
  });

  it('a wrong answer sends failed with the right score, to the package’s own endpoint when the launch gives none', async () => {
    received.length = 0;
    await launch(0, { actor: JSON.stringify({ name: ['Old Launcher'], mbox: ['mailto:old@example.test'] }) }, (sco) =>
      answerQuiz(sco, true),
    );
    expect(received).toHaveLength(1);
    const statements = received[0].body as { actor: unknown; verb: { id: string }; result: { score: unknown; success: boolean } }[];
    expect(statements.map((s) => s.verb.id.split('/').pop())).toEqual(['completed', 'failed']);
    expect(statements[1].result).toMatchObject({ score: { raw: 4, min: 0, max: 10, scaled: 0.4 }, success: false });
    // TinCan 0.95 launchers give each actor field as a list.
    expect(statements[0].actor).toEqual({ objectType: 'Agent', name: 'Old Launcher', mbox: 'mailto:old@example.test' });
  });
});
