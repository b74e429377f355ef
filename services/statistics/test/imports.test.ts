import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { ProgressStatus } from '@assistants/proto/gen/statistics/v1/common';
import { WhenStatusExists, type LessonStatisticsRow } from '@assistants/proto/gen/statistics/v1/imports';
import { actingAs, readStream, startStack, type StatisticsClient, type TestStack } from '@assistants/testing';

/**
 * The statistics service's import RPCs called directly (the import service's appliers call
 * them; gateway/test/imports-statistics.test.ts runs whole files): the pairs the importer
 * has just assigned are taken as assigned before their event reaches the projection, a chunk
 * is applied once under its key (a replay answers the record, even when the pairs just
 * assigned differ), a dry run writes and publishes nothing, FindUnassignedCourses.
 */
let stack: TestStack;
let imports: StatisticsClient['imports'];
let home: string;
let n = 0;

async function post(path: string, body: unknown) {
  const result = await stack.http('POST', path, { body });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const projected = (sql: string, id: string) =>
  until(async () => ((await stack.statistics.db.query(sql, [id])).rows.length > 0 ? true : undefined), `${id} projected`);

async function newLearner() {
  const login = `imp-${++n}`;
  const { id } = await post('/v1/users', { login, lastName: 'Learner', firstName: `N${n}`, organisationId: home });
  await projected('SELECT 1 FROM users WHERE id = $1', id);
  return { id: id as string, login };
}

async function newCourse() {
  const code = `IT-${++n}`;
  const course = await post('/v1/courses', { code, name: code, lessons: [{ code: `${code}-1`, name: 'one', type: 'L' }] });
  await projected('SELECT 1 FROM lessons WHERE course_id = $1', course.id);
  return { id: course.id as string, code };
}

const row = (itemId: string, login: string, code: string): LessonStatisticsRow => ({
  itemId,
  login,
  courseCode: code,
  lessonCode: `${code}-1`,
  lessonType: 'L',
  status: ProgressStatus.PROGRESS_STATUS_COMPLETED,
  statusDate: '',
});

const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r) => `${r.itemId} ${Outcome[r.outcome].replace('OUTCOME_', '')} ${r.code}${r.targetId ? ` ${r.targetId}` : ''}`);

const courseEvents = async (userId: string) => {
  await stack.statistics.flushEvents();
  return (await readStream(stack.statistics.bus, 'STATISTICS')).filter(
    (e) => e.subject === 'statistics.course.status-changed.v1' && (e.data as { userId: string }).userId === userId,
  );
};

beforeAll(async () => {
  stack = await startStack();
  imports = actingAs(stack.statistics.client, stack.fixture.adminId).imports;
  home = (await post('/v1/organisations', { extId: 'HOME', label: 'Home' })).id;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('takes the pairs the importer has just assigned as assigned; others not assigned are refused', async () => {
  const [ann, bob] = [await newLearner(), await newLearner()];
  const course = await newCourse();
  const { result } = await imports.importLessonStatistics({
    batch: { idempotencyKey: `imports-test:${++n}`, dryRun: false },
    rows: [row('2', ann.login, course.code), row('3', bob.login, course.code)],
    whenStatusExists: WhenStatusExists.WHEN_STATUS_EXISTS_NEW_SESSION,
    assigned: [{ userId: ann.id, courseId: course.id }],
  });
  expect(outcomes(result)).toEqual(['2 SUCCEEDED ADDED', '3 FAILED NOT_ASSIGNED crsvname']);
  expect((await courseEvents(ann.id)).map((e) => (e.data as { status: string }).status)).toEqual(['PROGRESS_STATUS_COMPLETED']);
});

it('applies a chunk once under its key (the pairs just assigned may differ on a replay); a dry run writes nothing', async () => {
  const cid = await newLearner();
  const course = await newCourse();
  const request = {
    rows: [row('2', cid.login, course.code)],
    whenStatusExists: WhenStatusExists.WHEN_STATUS_EXISTS_NEW_SESSION,
  };
  const dry = await imports.importLessonStatistics({
    ...request,
    batch: { idempotencyKey: '', dryRun: true },
    assigned: [{ userId: cid.id, courseId: course.id }],
  });
  expect(outcomes(dry.result)).toEqual(['2 SUCCEEDED ADDED']);
  expect((await stack.statistics.db.query('SELECT 1 FROM lesson_progress WHERE user_id = $1', [cid.id])).rows).toHaveLength(0);
  expect(await courseEvents(cid.id)).toHaveLength(0);

  const key = `imports-test:${++n}`;
  const first = await imports.importLessonStatistics({
    ...request,
    batch: { idempotencyKey: key, dryRun: false },
    assigned: [{ userId: cid.id, courseId: course.id }],
  });
  const again = await imports.importLessonStatistics({ ...request, batch: { idempotencyKey: key, dryRun: false }, assigned: [] });
  expect(first.result!.replayed).toBe(false);
  expect(again.result!.replayed).toBe(true);
  expect(outcomes(again.result)).toEqual(outcomes(first.result));
  expect(await courseEvents(cid.id)).toHaveLength(1);
});

it('FindUnassignedCourses: the pairs whose learner and course exist and are not assigned', async () => {
  const dan = await newLearner();
  const [assigned, missing] = [await newCourse(), await newCourse()];
  await post('/v1/runs', {
    assistant: 'users',
    action: 'U7',
    selection: { type: 'ids', ids: [dan.id] },
    params: { courseIds: [assigned.id] },
  });
  await projected('SELECT 1 FROM course_assignments WHERE user_id = $1', dan.id);
  const { pairs } = await imports.findUnassignedCourses({
    pairs: [
      { login: dan.login, courseCode: assigned.code },
      { login: dan.login.toUpperCase(), courseCode: missing.code.toLowerCase() },
      { login: 'nobody-at-all', courseCode: missing.code },
      { login: dan.login, courseCode: 'NO-SUCH-COURSE' },
    ],
  });
  expect(pairs.map((p) => [p.userId, p.courseId])).toEqual([[dan.id, missing.id]]);
});

it("a merge moves the deleted user's external training records and previous sessions to the kept user", async () => {
  const [zed, amy] = [await newLearner(), await newLearner()];
  const training = (itemId: string, login: string, courseName: string, provider: string) => ({
    itemId,
    login,
    courseName,
    courseCode: '',
    passportType: '',
    startDate: '2026-01-05',
    endDate: '2026-01-06',
    provider,
    duration: '',
    modality: '',
    lastName: '',
    firstName: '',
    delete: false,
  });
  await imports.importExternalTrainings({
    batch: { idempotencyKey: `imports-test:${++n}`, dryRun: false },
    rows: [
      training('2', zed.login, 'First aid', 'Z'),
      training('3', zed.login, 'Welding', 'Z'),
      training('4', amy.login, 'First aid', 'A'),
    ],
  });
  await stack.statistics.db.query(
    `INSERT INTO lesson_progress_sessions (user_id, lesson_id, course_id, status, attempts, time_spent_seconds)
     VALUES ($1, gen_random_uuid(), gen_random_uuid(), 'failed', 1, 0)`,
    [zed.id],
  );
  const progress = actingAs(stack.statistics.client, stack.fixture.adminId).progress;
  await progress.mergeUserProgress({
    batch: { idempotencyKey: `imports-test:${++n}`, dryRun: false },
    fromUserId: zed.id,
    toUserId: amy.id,
  });
  const { trainings } = await progress.listExternalTrainings({ userId: amy.id });
  expect(trainings.map((t) => `${t.courseName} ${t.provider}`).sort()).toEqual(['First aid A', 'Welding Z']);
  expect((await stack.statistics.db.query('SELECT 1 FROM external_trainings WHERE user_id = $1', [zed.id])).rows).toHaveLength(0);
  expect(
    (await stack.statistics.db.query('SELECT user_id FROM lesson_progress_sessions WHERE user_id = ANY($1)', [[zed.id, amy.id]])).rows,
  ).toEqual([{ user_id: amy.id }]);
});
