import type { TestStack } from '@assistants/testing';
import { createTest, post, scopedAdministrator, startAssessmentStack, type AssessmentStack } from './assessment-support';

/**
 * The test assistant's routes over real HTTP: tests (create, get, change, search, select),
 * a user's attempts, T1 (GET an attempt, PATCH its scores) and T2 (DELETE with confirm).
 * ROOT > EU > FR, ROOT > US: fr-tests manages tests and results on FR only and sees and
 * changes only FR's tests and the attempts of FR's users (404 elsewhere, as if absent).
 */
let stack: TestStack;
let org: AssessmentStack['org'];
const user: Record<string, string> = {};
const test: Record<string, string> = {};
let frTests: string;
let nobody: string;

const newTest = (externalId: string, organisationId: string, extra: object = {}) => ({
  externalId,
  title: `Quiz ${externalId}`,
  description: 'Safety basics',
  organisationId,
  passingScorePercent: 50,
  blocks: [
    {
      title: 'Block A',
      questions: [
        {
          type: 'multiple_choice',
          title: 'Pick the fruits',
          choices: [
            { id: 'apple', label: 'Apple' },
            { id: 'leek', label: 'Leek' },
            { id: 'pear', label: 'Pear' },
          ],
          expected: { choiceIds: ['apple', 'pear'] },
          maxScore: 2,
        },
        {
          type: 'ordering',
          title: 'Order the steps',
          choices: [
            { id: 's1', label: 'Stop' },
            { id: 's2', label: 'Look' },
          ],
          expected: { order: ['s1', 's2'] },
          maxScore: 2,
        },
      ],
    },
    {
      title: 'Block B',
      questions: [
        {
          type: 'matching',
          title: 'Match',
          choices: { left: [{ id: 'fr', label: 'France' }], right: [{ id: 'paris', label: 'Paris' }] },
          expected: { pairs: [{ left: 'fr', right: 'paris' }] },
          maxScore: 1,
        },
        { type: 'fill_in', title: 'Fill', text: 'The ___ is red', expected: { blanks: [['apple', 'Apple']] }, maxScore: 5 },
      ],
    },
  ],
  ...extra,
});

async function recordAttempt(testId: string, userId: string, scores: number[]) {
  const t = (await stack.http('GET', `/v1/tests/${testId}`)).body;
  const questions = t.blocks.flatMap((b: { questions: { id: string; type: string }[] }) => b.questions);
  const given: Record<string, unknown> = {
    multiple_choice: { choiceIds: ['apple'] },
    ordering: { order: ['s2', 's1'] },
    matching: { pairs: [{ left: 'fr', right: 'paris' }] },
    fill_in: { blanks: ['banana'] },
  };
  return post(stack, `/v1/tests/${testId}/attempts`, {
    userId,
    startedAt: '2026-05-04T09:00:00Z',
    durationSeconds: 240,
    answers: questions.map((q: { id: string; type: string }, i: number) => ({
      questionId: q.id,
      given: given[q.type],
      score: scores[i],
      durationSeconds: 60,
    })),
  });
}

beforeAll(async () => {
  ({ stack, org, nobody } = await startAssessmentStack());
  for (const [login, orgKey] of [
    ['fanny', 'FR'],
    ['sam', 'US'],
  ] as const) {
    user[login] = (await post(stack, '/v1/users', { login, lastName: login, firstName: 'X', organisationId: org[orgKey] })).id;
  }
  const testManager = ['tests:read', 'tests:write', 'results:read', 'results:write'];
  frTests = (await scopedAdministrator(stack, 'fr-tests', org.FR, testManager)).auth;
  test.FR = await createTest(stack, newTest('Q-FR', org.FR));
  test.US = await createTest(stack, newTest('Q-US', org.US));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const as = (auth: string, method: string, path: string, body?: unknown) => stack.http(method, path, { auth, body });

it('creates, reads and changes a test with its typed questions; 400 names the field', async () => {
  const got = await stack.http('GET', `/v1/tests/${test.FR}`);
  expect(got.status).toBe(200);
  expect(got.body).toMatchObject({ externalId: 'Q-FR', organisationId: org.FR, passingScorePercent: 50, maxScore: 10, courseId: '' });
  expect(got.body.blocks[1].questions[0]).toMatchObject({
    type: 'matching',
    choices: { left: [{ id: 'fr', label: 'France' }], right: [{ id: 'paris', label: 'Paris' }] },
    expected: { pairs: [{ left: 'fr', right: 'paris' }] },
  });
  const bad = await stack.http('POST', '/v1/tests', {
    body: newTest('Q-BAD', org.FR, {
      blocks: [
        {
          title: 'B',
          questions: [
            {
              type: 'ordering',
              title: 'O',
              choices: [
                { id: 'a', label: 'A' },
                { id: 'b', label: 'B' },
              ],
              expected: { order: ['a'] },
              maxScore: 1,
            },
          ],
        },
      ],
    }),
  });
  expect([bad.status, bad.body.field]).toEqual([400, 'blocks[0].questions[0].expectedJson.order']);
  const schema = await stack.http('POST', '/v1/tests', {
    body: newTest('Q-BAD', org.FR, { blocks: [{ title: 'B', questions: [{ type: 'essay', title: 'O', maxScore: 1 }] }] }),
  });
  expect(schema.status).toBe(400);

  const changed = await stack.http('PUT', `/v1/tests/${test.FR}`, {
    body: { ...newTest('Q-FR', org.FR), title: 'Quiz France', blocks: undefined },
  });
  expect([changed.status, changed.body.title, changed.body.blocks.length]).toEqual([200, 'Quiz France', 2]);
});

it('searches and selects tests within the scope only', async () => {
  const all = await stack.http('POST', '/v1/tests/search', { body: { filter: { text: 'quiz' } } });
  expect(all.body.items.map((t: { externalId: string }) => t.externalId).sort()).toEqual(['Q-FR', 'Q-US']);
  const fr = await as(frTests, 'POST', '/v1/tests/search', { filter: {} });
  expect([fr.status, fr.body.total, fr.body.items.map((t: { id: string }) => t.id)]).toEqual([200, 1, [test.FR]]);
  const eu = await stack.http('POST', '/v1/tests/search', { body: { filter: { organisationId: org.EU } } });
  expect(eu.body.items.map((t: { id: string }) => t.id)).toEqual([test.FR]);
  const selected = await as(frTests, 'POST', '/v1/selections/tests/resolve', { selection: { type: 'ids', ids: [test.FR, test.US] } });
  expect([selected.status, selected.body.total, selected.body.items.map((t: { id: string }) => t.id)]).toEqual([200, 1, [test.FR]]);
  const excluded = await stack.http('POST', '/v1/selections/tests/resolve', {
    body: { selection: { type: 'filter', filter: { text: 'Q-' }, excludeIds: [test.US] } },
  });
  expect(excluded.body.items.map((t: { id: string }) => t.id)).toEqual([test.FR]);
  expect((await as(nobody, 'POST', '/v1/tests/search', { filter: {} })).status).toBe(403);
});

it('a scoped administrator reaches no test outside its scope: 404 on read, change and create there', async () => {
  expect((await as(frTests, 'GET', `/v1/tests/${test.US}`)).status).toBe(404);
  expect((await as(frTests, 'GET', `/v1/tests/${test.FR}`)).status).toBe(200);
  const put = await as(frTests, 'PUT', `/v1/tests/${test.US}`, { ...newTest('Q-US', org.US), title: 'Hijacked' });
  expect(put.status).toBe(404);
  const moved = await as(frTests, 'PUT', `/v1/tests/${test.FR}`, { ...newTest('Q-FR', org.US), blocks: undefined });
  expect([moved.status, moved.body.field]).toEqual([404, 'fields.organisationId']);
  const created = await as(frTests, 'POST', '/v1/tests', newTest('Q-US-2', org.US));
  expect([created.status, created.body.field]).toEqual([404, 'fields.organisationId']);
  expect((await stack.http('GET', `/v1/tests/${test.US}`)).body.title).toBe('Quiz Q-US');
  expect((await stack.assessment.db.query("SELECT 1 FROM tests WHERE external_id = 'Q-US-2'")).rows).toEqual([]);
});

it('T1: shows an attempt whole and edits its scores, never above a maximum; outside the scope 404', async () => {
  // 1 + 0 + 1 + 0 = 2 of 10: failed.
  const mine = await recordAttempt(test.FR, user.fanny, [1, 0, 1, 0]);
  const theirs = await recordAttempt(test.FR, user.sam, [2, 2, 1, 5]);
  const list = await as(frTests, 'GET', `/v1/tests/${test.FR}/attempts?userId=${user.fanny}`);
  expect([list.status, list.body.items.map((a: { id: string }) => a.id)]).toEqual([200, [mine.id]]);
  expect((await as(frTests, 'GET', `/v1/tests/${test.FR}/attempts?userId=${user.sam}`)).status).toBe(404);
  expect((await as(frTests, 'GET', `/v1/tests/${test.US}/attempts?userId=${user.fanny}`)).status).toBe(404);

  const shown = await as(frTests, 'GET', `/v1/attempts/${mine.id}`);
  expect(shown.status).toBe(200);
  expect(shown.body).toMatchObject({
    testTitle: 'Quiz France',
    score: 2,
    maxScore: 10,
    scorePercent: 20,
    status: 'failed',
    durationSeconds: 240,
  });
  expect(shown.body.blocks).toEqual([
    { blockId: expect.any(String), title: 'Block A', score: 1, maxScore: 4 },
    { blockId: expect.any(String), title: 'Block B', score: 1, maxScore: 6 },
  ]);
  expect(shown.body.answers[0]).toMatchObject({
    type: 'multiple_choice',
    title: 'Pick the fruits',
    expected: { choiceIds: ['apple', 'pear'] },
    given: { choiceIds: ['apple'] },
    score: 1,
    maxScore: 2,
    durationSeconds: 60,
  });
  const fill = shown.body.answers[3].questionId;

  const over = await as(frTests, 'PATCH', `/v1/attempts/${mine.id}/scores`, { scores: [{ questionId: fill, score: 5.5 }] });
  expect([over.status, over.body.field]).toEqual([400, 'scores[0].score']);
  expect(over.body.message).toContain('"Fill"');
  // The answer given is not something this route takes.
  const given = await as(frTests, 'PATCH', `/v1/attempts/${mine.id}/scores`, {
    scores: [{ questionId: fill, score: 4, given: { blanks: ['apple'] } }],
  });
  expect(given.status).toBe(400);

  const edited = await as(frTests, 'PATCH', `/v1/attempts/${mine.id}/scores`, { scores: [{ questionId: fill, score: 4 }] });
  expect(edited.status).toBe(200);
  expect(edited.body).toMatchObject({ score: 6, scorePercent: 60, status: 'passed' });
  expect(edited.body.answers[3]).toMatchObject({ score: 4, given: { blanks: ['banana'] } });

  // sam's attempt lies outside fr-tests' scope: as if it did not exist.
  expect((await as(frTests, 'GET', `/v1/attempts/${theirs.id}`)).status).toBe(404);
  const patched = await as(frTests, 'PATCH', `/v1/attempts/${theirs.id}/scores`, { scores: [{ questionId: fill, score: 0 }] });
  expect(patched.status).toBe(404);
  expect((await stack.http('GET', `/v1/attempts/${theirs.id}`)).body.score).toBe(10);
  expect((await as(nobody, 'GET', `/v1/attempts/${mine.id}`)).status).toBe(403);
});

it('T2: deletes an attempt only when confirmed; outside the scope 404 and it stays', async () => {
  const mine = await recordAttempt(test.FR, user.fanny, [0, 0, 0, 0]);
  const theirs = await recordAttempt(test.FR, user.sam, [0, 0, 0, 0]);
  const unconfirmed = await as(frTests, 'DELETE', `/v1/attempts/${mine.id}`);
  expect([unconfirmed.status, unconfirmed.body.field]).toEqual([400, 'confirm']);
  expect((await as(frTests, 'DELETE', `/v1/attempts/${theirs.id}?confirm=true`)).status).toBe(404);
  expect((await stack.http('GET', `/v1/attempts/${theirs.id}`)).status).toBe(200);
  expect((await as(frTests, 'DELETE', `/v1/attempts/${mine.id}?confirm=true`)).status).toBe(204);
  expect((await stack.http('GET', `/v1/attempts/${mine.id}`)).status).toBe(404);
  const left = await stack.assessment.db.query('SELECT count(*)::int AS n FROM attempt_answers WHERE attempt_id = $1', [mine.id]);
  expect(left.rows[0].n).toBe(0);
});

it('refuses to change the questions of a test that has attempts', async () => {
  const changed = await stack.http('PUT', `/v1/tests/${test.FR}`, { body: newTest('Q-FR', org.FR) });
  expect(changed.status).toBe(409);
  expect(changed.body.field).toBe('blocks');
});
