import type { TestStack } from '@assistants/testing';
import { readQtiPackage } from '../../services/assessment/src/qti/import';
import { createTest, scopedAdministrator, startAssessmentStack, type AssessmentStack } from './assessment-support';

/**
 * T5 (Mobiteach export) over real HTTP: GET /v1/tests/{id}/qti gives the test as a QTI 2.1
 * zip to download, which reads back as the test (blocks, questions of every type, choices,
 * expected answers, max scores). ROOT > EU > FR, ROOT > US: fr-qti holds tests:read on FR
 * only and gets 404 for the US test, as if it did not exist; a user without tests:read 403.
 */
let stack: TestStack;
let org: AssessmentStack['org'];
const test: Record<string, string> = {};
let frQti: string;
let nobody: string;

const choices = (...ids: string[]) => ids.map((id) => ({ id, label: `Label ${id}` }));

const BLOCKS = [
  {
    title: 'Closed',
    questions: [
      {
        type: 'single_choice',
        title: 'Capital',
        text: 'Which city?',
        media: [{ type: 'image', url: 'https://example.test/map.png' }],
        choices: choices('a', 'b'),
        expected: { choiceId: 'b' },
        maxScore: 2,
      },
      {
        type: 'multiple_choice',
        title: 'Fruits',
        choices: choices('apple', 'leek', 'pear'),
        expected: { choiceIds: ['apple', 'pear'] },
        maxScore: 1.5,
      },
      { type: 'true_false', title: 'Blue sky', expected: { value: true }, maxScore: 1 },
      {
        type: 'matching',
        title: 'Match',
        choices: { left: choices('fr', 'it'), right: choices('paris', 'rome') },
        expected: {
          pairs: [
            { left: 'fr', right: 'paris' },
            { left: 'it', right: 'rome' },
          ],
        },
        maxScore: 2,
      },
      { type: 'ordering', title: 'Steps', choices: choices('s1', 's2', 's3'), expected: { order: ['s3', 's1', 's2'] }, maxScore: 3 },
    ],
  },
  {
    title: 'Open',
    questions: [
      { type: 'fill_in', title: 'Fill', text: 'The ___ is red', expected: { blanks: [['apple', 'Apple']] }, maxScore: 5 },
      { type: 'numeric', title: 'Pi', expected: { value: 3.14, tolerance: 0.005 }, maxScore: 1 },
      { type: 'free_text', title: 'Why', text: 'Explain.', expected: { modelAnswer: 'Because.' }, maxScore: 4 },
    ],
  },
];

beforeAll(async () => {
  ({ stack, org, nobody } = await startAssessmentStack());
  frQti = (await scopedAdministrator(stack, 'fr-qti', org.FR, ['tests:read'])).auth;
  for (const key of ['FR', 'US'] as const) {
    test[key] = await createTest(stack, { externalId: `Quiz ${key}/2026`, title: `Quiz ${key}`, organisationId: org[key], blocks: BLOCKS });
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('downloads the test as a QTI 2.1 zip that reads back as the test', async () => {
  const got = await stack.http('GET', `/v1/tests/${test.FR}/qti`, { auth: frQti });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('application/zip');
  expect(got.headers.get('content-disposition')).toBe('attachment; filename="Quiz_FR_2026.qti.zip"');
  expect(got.raw.subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));

  const stored = (await stack.http('GET', `/v1/tests/${test.FR}`)).body;
  const back = await readQtiPackage(got.raw);
  expect(back).toMatchObject({ externalId: 'Quiz FR/2026', title: 'Quiz FR' });
  expect(back.blocks).toEqual(
    stored.blocks.map((b: { title: string; questions: Record<string, unknown>[] }) => ({
      title: b.title,
      questions: b.questions.map((q) => ({
        id: `item-${q.id}`,
        type: q.type,
        title: q.title,
        text: q.text,
        media: q.media,
        choices: q.choices,
        expected: q.expected ?? {},
        maxScore: q.maxScore,
      })),
    })),
  );
  expect(back.blocks.flatMap((b) => b.questions.map((q) => q.type))).toEqual([
    'single_choice',
    'multiple_choice',
    'true_false',
    'matching',
    'ordering',
    'fill_in',
    'numeric',
    'free_text',
  ]);
});

it('a scoped administrator gets 404 for a test outside its scope; without tests:read 403; unknown 404', async () => {
  const outside = await stack.http('GET', `/v1/tests/${test.US}/qti`, { auth: frQti });
  expect(outside.status).toBe(404);
  expect(outside.headers.get('content-disposition')).toBeNull();
  expect((await stack.http('GET', `/v1/tests/${test.FR}/qti`, { auth: nobody })).status).toBe(403);
  expect((await stack.http('GET', `/v1/tests/00000000-0000-4000-8000-000000000000/qti`)).status).toBe(404);
  expect((await stack.http('GET', `/v1/tests/${test.FR}/qti`, { auth: null })).status).toBe(401);
  // The administrator of the whole tree reads the US test.
  expect((await stack.http('GET', `/v1/tests/${test.US}/qti`)).status).toBe(200);
});
