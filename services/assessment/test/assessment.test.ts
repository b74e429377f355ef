import { actingAs, readStream, refusal, startStack, type AssessmentClient, type TestStack } from '@assistants/testing';
import type { BlockInput } from '@assistants/proto/gen/assessment/v1/tests';

/**
 * The assessment service on the whole stack (real NATS and PostgreSQL): tests with typed
 * questions (each type's JSON checked), attempts, T1 (scores never above their maximum, the
 * totals, percentage, status and block scores recomputed, every change audited, the given
 * answers untouched), T2 (confirmed, then gone), the events published, and the statistics
 * service following the lesson that plays the test: an edited score changes the lesson's
 * score and status, a deleted attempt brings it back to the best remaining one or to not
 * started.
 */
let stack: TestStack;
let api: AssessmentClient;
let home: string;
let n = 0;

async function post(path: string, body: unknown) {
  const result = await stack.http('POST', path, { body });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

const newUser = async () =>
  (await post('/v1/users', { login: `asmt-${++n}`, lastName: 'Learner', firstName: `N${n}`, organisationId: home })).id as string;

async function newCourse(): Promise<{ id: string; lessons: string[] }> {
  const code = `AT-${++n}`;
  const course = await post('/v1/courses', {
    code,
    name: code,
    lessons: [
      { code: `${code}-T`, name: 'Quiz', type: 'L' },
      { code: `${code}-R`, name: 'Reading', type: 'E' },
    ],
  });
  return { id: course.id, lessons: course.lessons.map((l: { id: string }) => l.id) };
}

const BLOCKS: BlockInput[] = [
  {
    title: 'Basics',
    questions: [
      {
        type: 'single_choice',
        title: 'Capital of France',
        text: 'Which city?',
        media: [{ type: 'image', url: 'https://example.test/map.png' }],
        choicesJson: JSON.stringify([
          { id: 'a', label: 'Paris' },
          { id: 'b', label: 'Lyon' },
        ]),
        expectedJson: JSON.stringify({ choiceId: 'a' }),
        maxScore: 2,
      },
      { type: 'true_false', title: 'The sky is blue', text: '', media: [], choicesJson: '', expectedJson: '{"value":true}', maxScore: 1 },
    ],
  },
  {
    title: 'Open',
    questions: [
      {
        type: 'numeric',
        title: 'Pi to 2 decimals',
        text: '',
        media: [],
        choicesJson: '',
        expectedJson: '{"value":3.14,"tolerance":0.005}',
        maxScore: 3,
      },
      {
        type: 'free_text',
        title: 'Explain',
        text: 'Why?',
        media: [],
        choicesJson: '',
        expectedJson: '{"modelAnswer":"Because."}',
        maxScore: 4,
      },
    ],
  },
];

async function newTest(extra: { courseId?: string; lessonId?: string; organisationId?: string } = {}) {
  const { test } = await api.tests.createTest({
    fields: {
      externalId: `T-${++n}`,
      title: `Test ${n}`,
      description: 'd',
      organisationId: extra.organisationId ?? home,
      courseId: extra.courseId ?? '',
      lessonId: extra.lessonId ?? '',
      passingScorePercent: 60,
    },
    blocks: BLOCKS,
  });
  return test!;
}

/** An attempt scoring `scores` (in question order). */
async function attempt(testId: string, userId: string, scores: number[], startedAt: string) {
  const test = (await api.tests.getTest({ id: testId })).test!;
  const questions = test.blocks.flatMap((b) => b.questions);
  const given: Record<string, string> = {
    single_choice: '{"choiceId":"b"}',
    true_false: '{"value":true}',
    numeric: '{"value":3.1}',
    free_text: '{"text":"No idea"}',
  };
  return (
    await api.attempts.recordAttempt({
      testId,
      userId,
      startedAt,
      durationSeconds: 300,
      incomplete: false,
      answers: questions.map((q, i) => ({ questionId: q.id, givenJson: given[q.type], score: scores[i], durationSeconds: 60 })),
    })
  ).attempt!;
}

const lessonRow = async (userId: string, lessonId: string) =>
  (
    await stack.statistics.db.query(
      'SELECT status, score, attempts, time_spent_seconds FROM lesson_progress WHERE user_id = $1 AND lesson_id = $2',
      [userId, lessonId],
    )
  ).rows[0];
const courseStatus = async (userId: string, courseId: string) =>
  (await stack.statistics.db.query('SELECT status FROM course_progress WHERE user_id = $1 AND course_id = $2', [userId, courseId])).rows[0]
    ?.status;

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  stack = await startStack();
  api = actingAs(stack.assessment.client, stack.fixture.adminId);
  home = (await post('/v1/organisations', { extId: 'ASMT-HOME', label: 'Home' })).id;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('checks each question type’s JSON, naming the question and field at fault, and keeps nothing of a refused test', async () => {
  const bad = await refusal(
    api.tests.createTest({
      fields: { externalId: 'BAD-1', title: 'Bad', description: '', organisationId: home, courseId: '', lessonId: '' },
      blocks: [
        {
          title: 'B',
          questions: [
            {
              type: 'multiple_choice',
              title: 'Q',
              text: '',
              media: [],
              choicesJson: '[{"id":"a","label":"A"},{"id":"b","label":"B"}]',
              expectedJson: '{"choiceIds":["c"]}',
              maxScore: 1,
            },
          ],
        },
      ],
    }),
  );
  expect([bad.code, bad.field]).toEqual(['INVALID_ARGUMENT', 'blocks[0].questions[0].expectedJson.choiceIds[0]']);
  const type = await refusal(
    api.tests.createTest({
      fields: { externalId: 'BAD-2', title: 'Bad', description: '', organisationId: home, courseId: '', lessonId: '' },
      blocks: [
        { title: 'B', questions: [{ type: 'essay', title: 'Q', text: '', media: [], choicesJson: '', expectedJson: '', maxScore: 1 }] },
      ],
    }),
  );
  expect([type.code, type.field]).toEqual(['INVALID_ARGUMENT', 'blocks[0].questions[0].type']);
  const { rows } = await stack.assessment.db.query("SELECT id FROM tests WHERE external_id LIKE 'BAD-%'");
  expect(rows).toEqual([]);

  const test = await newTest();
  expect(test.maxScore).toBe(10);
  expect(test.blocks.map((b) => b.questions.map((q) => q.type))).toEqual([
    ['single_choice', 'true_false'],
    ['numeric', 'free_text'],
  ]);
  const duplicate = await refusal(
    api.tests.createTest({
      fields: { externalId: test.externalId.toLowerCase(), title: 'x', description: '', organisationId: home, courseId: '', lessonId: '' },
      blocks: [],
    }),
  );
  expect([duplicate.code, duplicate.field]).toEqual(['ALREADY_EXISTS', 'fields.externalId']);
});

it('T1 edits scores (never above the maximum), recomputes and audits; T2 deletes once confirmed; statistics follows the lesson', async () => {
  const course = await newCourse();
  const [quizLesson, reading] = course.lessons;
  const resource = await refusal(
    api.tests.createTest({
      fields: { externalId: `R-${++n}`, title: 'x', description: '', organisationId: home, courseId: course.id, lessonId: reading },
      blocks: [],
    }),
  );
  expect([resource.code, resource.field]).toEqual(['INVALID_ARGUMENT', 'fields.lessonId']);
  const test = await newTest({ courseId: course.id, lessonId: quizLesson });
  const user = await newUser();
  // The statistics service knows the course's lessons from the catalogue's events.
  await until(
    async () => (await stack.statistics.db.query('SELECT 1 FROM lessons WHERE id = $1', [quizLesson])).rows.length > 0,
    'course projected',
  );
  const fromSeq = ((await stack.assessment.bus.jsm.streams.info('ASSESSMENT')).state.last_seq ?? 0) + 1;

  // 2 + 1 + 0 + 1 = 4 of 10: failed (pass mark 60%).
  const first = await attempt(test.id, user, [0, 1, 2, 1], '2026-03-01T10:00:00Z');
  expect(first).toMatchObject({ score: 4, maxScore: 10, scorePercent: 40, status: 'failed' });
  expect(first.blocks.map((b) => [b.title, b.score, b.maxScore])).toEqual([
    ['Basics', 1, 3],
    ['Open', 3, 7],
  ]);
  await until(async () => (await lessonRow(user, quizLesson))?.status === 'failed', 'lesson failed');
  expect(await lessonRow(user, quizLesson)).toEqual({ status: 'failed', score: 40, attempts: 1, time_spent_seconds: 300 });

  // Above the maximum: refused, naming the question; nothing changed.
  const [q1, , , q4] = first.answers;
  const over = await refusal(
    api.attempts.editAttemptScores({
      attemptId: first.id,
      scores: [
        { questionId: q1.questionId, score: 2 },
        { questionId: q4.questionId, score: 5 },
      ],
    }),
  );
  expect([over.code, over.field]).toEqual(['INVALID_ARGUMENT', 'scores[1].score']);
  expect(over.message).toContain('"Explain"');
  expect((await api.attempts.getAttempt({ id: first.id })).attempt!.score).toBe(4);

  // 2 + 1 + 2 + 4 = 9 of 10: passed; the given answers stay.
  const edited = (
    await api.attempts.editAttemptScores({
      attemptId: first.id,
      scores: [
        { questionId: q1.questionId, score: 2 },
        { questionId: q4.questionId, score: 4 },
      ],
    })
  ).attempt!;
  expect(edited).toMatchObject({ score: 9, scorePercent: 90, status: 'passed' });
  expect(edited.blocks.map((b) => b.score)).toEqual([3, 6]);
  expect(edited.answers.map((a) => a.givenJson)).toEqual(first.answers.map((a) => a.givenJson));
  const audit = await stack.assessment.db.query(
    'SELECT question_id, old_score::float AS old, new_score::float AS new, edited_by FROM score_edits WHERE attempt_id = $1 ORDER BY id',
    [first.id],
  );
  expect(audit.rows).toEqual([
    { question_id: q1.questionId, old: 0, new: 2, edited_by: stack.fixture.adminId },
    { question_id: q4.questionId, old: 1, new: 4, edited_by: stack.fixture.adminId },
  ]);
  await until(async () => (await lessonRow(user, quizLesson))?.score === 90, 'lesson score 90');
  expect(await lessonRow(user, quizLesson)).toMatchObject({ status: 'passed', attempts: 1 });
  // The reading is optional by type (E): the course is done with the quiz passed.
  expect(await courseStatus(user, course.id)).toBe('completed');

  // A second, worse attempt, then the best one deleted: the lesson falls back to it.
  const second = await attempt(test.id, user, [2, 0, 0, 1], '2026-03-02T10:00:00Z');
  expect(second.status).toBe('failed');
  const unconfirmed = await refusal(api.attempts.deleteAttempt({ attemptId: first.id, confirm: false }));
  expect([unconfirmed.code, unconfirmed.field]).toEqual(['INVALID_ARGUMENT', 'confirm']);
  await api.attempts.deleteAttempt({ attemptId: first.id, confirm: true });
  expect((await refusal(api.attempts.getAttempt({ id: first.id }))).code).toBe('NOT_FOUND');
  await until(async () => (await lessonRow(user, quizLesson))?.score === 30, 'lesson back to the second attempt');
  expect(await lessonRow(user, quizLesson)).toEqual({ status: 'failed', score: 30, attempts: 1, time_spent_seconds: 300 });
  expect(await courseStatus(user, course.id)).toBe('failed');
  // The audit stays after the attempt is gone.
  expect((await stack.assessment.db.query('SELECT count(*)::int AS n FROM score_edits WHERE attempt_id = $1', [first.id])).rows[0].n).toBe(
    2,
  );

  await api.attempts.deleteAttempt({ attemptId: second.id, confirm: true });
  await until(async () => (await lessonRow(user, quizLesson))?.status === 'not_started', 'lesson not started');
  expect(await lessonRow(user, quizLesson)).toEqual({ status: 'not_started', score: null, attempts: 0, time_spent_seconds: 0 });
  expect(await courseStatus(user, course.id)).toBe('not_started');

  await stack.assessment.flushEvents();
  const events = await readStream(stack.assessment.bus, 'ASSESSMENT', fromSeq);
  expect(events.map((e) => e.subject)).toEqual([
    'assessment.attempt.recorded.v1',
    'assessment.attempt.scores-edited.v1',
    'assessment.attempt.recorded.v1',
    'assessment.attempt.deleted.v1',
    'assessment.attempt.deleted.v1',
  ]);
  expect(events[1].data).toMatchObject({
    attempt: { id: first.id, userId: user, scorePercent: 90, status: 'passed' },
    lesson: { courseId: course.id, lessonId: quizLesson, attempts: 1, status: 'passed', scorePercent: 90 },
    actorId: stack.fixture.adminId,
  });
});

it('refuses an attempt that misses a question, scores one above its maximum or gives a badly shaped answer', async () => {
  const test = await newTest();
  const user = await newUser();
  const questions = test.blocks.flatMap((b) => b.questions);
  const base = { testId: test.id, userId: user, startedAt: '', durationSeconds: 10, incomplete: false };
  const answers = questions.map((q) => ({ questionId: q.id, givenJson: '{"text":"x"}', score: 0, durationSeconds: 1 }));
  const missing = await refusal(api.attempts.recordAttempt({ ...base, answers: answers.slice(1) }));
  expect([missing.code, missing.field]).toEqual(['INVALID_ARGUMENT', 'answers']);
  const shape = await refusal(api.attempts.recordAttempt({ ...base, answers }));
  expect([shape.code, shape.field]).toEqual(['INVALID_ARGUMENT', 'answers[0].givenJson']);
  expect((await stack.assessment.db.query('SELECT count(*)::int AS n FROM attempts WHERE user_id = $1', [user])).rows[0].n).toBe(0);
});

it('attempts recorded concurrently all count for the lesson (a sanity check: the race it guards against is narrow)', async () => {
  const course = await newCourse();
  const test = await newTest({ courseId: course.id, lessonId: course.lessons[0] });
  const user = await newUser();
  await Promise.all([
    attempt(test.id, user, [2, 1, 3, 4], '2026-03-05T10:00:00Z'),
    attempt(test.id, user, [0, 0, 0, 0], '2026-03-05T11:00:00Z'),
    attempt(test.id, user, [2, 0, 0, 0], '2026-03-05T12:00:00Z'),
  ]);
  await until(async () => (await lessonRow(user, course.lessons[0]))?.attempts === 3, 'three attempts counted');
  expect(await lessonRow(user, course.lessons[0])).toEqual({ status: 'passed', score: 100, attempts: 3, time_spent_seconds: 900 });
});
