import { randomUUID } from 'node:crypto';
import { envelope, publish } from '@assistants/kit';
import { AttemptChanged, type LessonResult } from '@assistants/proto/gen/assessment/v1/events';
import { readStream, startStack, type TestStack } from '@assistants/testing';

/**
 * The statistics service follows the assessment service's events on its own (published here
 * straight onto the ASSESSMENT stream, real NATS and PostgreSQL): the lesson that plays a test
 * takes the result each event states — set again by the same statement, nothing changes —
 * the course follows (reason "assessment"), and no attempt left is "not started".
 */
let stack: TestStack;
let n = 0;

async function post(path: string, body: unknown) {
  const result = await stack.http('POST', path, { body });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const userId = '6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f';

const send = (verb: string, courseId: string, lessonId: string, lesson: Partial<LessonResult>) =>
  publish(
    stack.statistics.bus,
    envelope(
      `assessment.attempt.${verb}.v1`,
      AttemptChanged.toJSON({
        attempt: {
          id: randomUUID(),
          testId: randomUUID(),
          userId,
          startedAt: '',
          durationSeconds: 0,
          score: 0,
          maxScore: 0,
          scorePercent: 0,
          status: '',
        },
        lesson: { courseId, lessonId, attempts: 0, status: 'not_started', scorePercent: 0, statusDate: '', timeSpentSeconds: 0, ...lesson },
        actorId: '',
      }),
    ),
  );

const lessonRow = async (lessonId: string) =>
  (
    await stack.statistics.db.query(
      'SELECT status, score, attempts, time_spent_seconds FROM lesson_progress WHERE user_id = $1 AND lesson_id = $2',
      [userId, lessonId],
    )
  ).rows[0];

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('sets the lesson to the stated result, the same again changes nothing, no attempt left is not started', async () => {
  const code = `AF-${++n}`;
  const course = await post('/v1/courses', { code, name: code, lessons: [{ code: `${code}-Q`, name: 'Quiz', type: 'L' }] });
  const lessonId: string = course.lessons[0].id;
  await until(
    async () => (await stack.statistics.db.query('SELECT 1 FROM lessons WHERE id = $1', [lessonId])).rows.length > 0,
    'course projected',
  );
  const fromSeq = ((await stack.statistics.bus.jsm.streams.info('STATISTICS')).state.last_seq ?? 0) + 1;

  const passed = { attempts: 2, status: 'passed', scorePercent: 85, statusDate: '2026-04-02T10:05:00Z', timeSpentSeconds: 600 };
  await send('scores-edited', course.id, lessonId, passed);
  await until(async () => (await lessonRow(lessonId))?.score === 85, 'lesson passed');
  // Delivered again (another envelope, same statement): the same record.
  await send('scores-edited', course.id, lessonId, passed);
  // A test not played as a lesson: nothing to follow.
  await send('recorded', '', '', { attempts: 1, status: 'failed', scorePercent: 10 });
  await send('deleted', course.id, lessonId, {
    attempts: 1,
    status: 'failed',
    scorePercent: 30,
    statusDate: '2026-04-01T10:05:00Z',
    timeSpentSeconds: 300,
  });
  await until(async () => (await lessonRow(lessonId))?.score === 30, 'back to the remaining attempt');
  expect(await lessonRow(lessonId)).toEqual({ status: 'failed', score: 30, attempts: 1, time_spent_seconds: 300 });
  await send('deleted', course.id, lessonId, { attempts: 0 });
  await until(async () => (await lessonRow(lessonId))?.status === 'not_started', 'not started');
  expect(await lessonRow(lessonId)).toEqual({ status: 'not_started', score: null, attempts: 0, time_spent_seconds: 0 });

  await stack.statistics.flushEvents();
  const changes = (await readStream(stack.statistics.bus, 'STATISTICS', fromSeq))
    .filter((e) => e.subject === 'statistics.course.status-changed.v1')
    .map((e) => e.data as { status: string; reason: string });
  expect(changes.map((c) => [c.status, c.reason])).toEqual([
    ['PROGRESS_STATUS_COMPLETED', 'assessment'],
    ['PROGRESS_STATUS_FAILED', 'assessment'],
    ['PROGRESS_STATUS_NOT_STARTED', 'assessment'],
  ]);
});
