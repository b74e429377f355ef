import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { ProgressStatus } from '@assistants/proto/gen/statistics/v1/common';
import {
  actingAs,
  basic,
  readStream,
  refusal,
  startStack,
  startStatisticsProcess,
  type StatisticsClient,
  type TestStack,
} from '@assistants/testing';

/**
 * The statistics service on the whole stack (real NATS and PostgreSQL): its projections of
 * the catalogue and the assignments (a removed assignment kept as history, not shown) and the
 * merge of one user's progress into another's (M1's statistics step): the best result kept,
 * idempotent under its key, a dry run that changes nothing, the scope checked.
 */
let stack: TestStack;
let api: StatisticsClient['progress'];
let home: string;
let keys = 0;
let n = 0;

const key = () => ({ idempotencyKey: `progress-test:${++keys}`, dryRun: false });
const dry = { idempotencyKey: '', dryRun: true };

async function post(path: string, body: unknown, auth?: string) {
  const result = await stack.http('POST', path, { body, auth });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

const newUser = async (fields: object = {}) =>
  (await post('/v1/users', { login: `stat-${++n}`, lastName: 'Learner', firstName: `N${n}`, organisationId: home, ...fields }))
    .id as string;

async function newCourse(types: string[]): Promise<{ id: string; lessons: string[] }> {
  const code = `PT-${++n}`;
  const course = await post('/v1/courses', {
    code,
    name: code,
    lessons: types.map((type, i) => ({ code: `${code}-${i}`, name: `L${i}`, type })),
  });
  return { id: course.id, lessons: course.lessons.map((l: { id: string }) => l.id) };
}

/** Runs a user assistant action to completion through the gateway. */
async function run(action: string, userIds: string[], params: object) {
  const created = await post('/v1/runs', { assistant: 'users', action, selection: { type: 'ids', ids: userIds }, params });
  for (;;) {
    const r = (await stack.http('GET', `/v1/runs/${created.id}`)).body;
    if (r.status === 'completed') return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the statistics service knows the course's lessons and the user's assignment of it. */
const known = (userId: string, courseId: string) =>
  until(async () => {
    const p = await api.getUserProgress({ userId });
    return p.courses.find((c) => c.course!.id === courseId && c.lessons.length > 0);
  }, `course ${courseId} of ${userId}`);

const set = (userId: string, courseId: string, lessonId: string, status: ProgressStatus, extra: object = {}) =>
  api.setLessonProgress({ batch: key(), userIds: [userId], courseId, lessonId, status, resetAttempts: false, statusDate: '', ...extra });

const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r) =>
    `${r.targetId}: ${Outcome[r.outcome].replace('OUTCOME_', '')}${r.code ? ` ${r.code}` : ''} ${r.message}`.trim(),
  );

const rows = async (table: string, userId: string) =>
  (await stack.statistics.db.query(`SELECT * FROM ${table} WHERE user_id = $1`, [userId])).rows;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_RUN_POLL_MS: '50' });
  api = actingAs(stack.statistics.client, stack.fixture.adminId).progress;
  home = (await post('/v1/organisations', { extId: 'HOME', label: 'Home' })).id;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('keeps a removed assignment as history, not shown, with its progress for when it comes back', async () => {
  const user = await newUser();
  const course = await newCourse(['L']);
  await run('U7', [user], { courseIds: [course.id], option: 'mandatory', startDate: '2027-01-04', endDate: '2027-02-26' });
  const shown = await known(user, course.id);
  expect(shown).toMatchObject({
    status: ProgressStatus.PROGRESS_STATUS_NOT_STARTED,
    option: 'mandatory',
    startDate: '2027-01-04',
    endDate: '2027-02-26',
  });
  await set(user, course.id, course.lessons[0], ProgressStatus.PROGRESS_STATUS_COMPLETED);

  await run('U10', [user], { courseIds: [course.id] });
  await until(async () => ((await api.getUserProgress({ userId: user })).courses.length === 0 ? true : undefined), 'removal seen');
  const [history] = await stack.statistics.db
    .query<{ removed_at: Date | null }>('SELECT removed_at FROM course_assignments WHERE user_id = $1 AND course_id = $2', [
      user,
      course.id,
    ])
    .then((r) => r.rows);
  expect(history.removed_at).toBeInstanceOf(Date);
  // Not assigned any more: S1 refuses it.
  const refused = await set(user, course.id, course.lessons[0], ProgressStatus.PROGRESS_STATUS_BROWSED);
  expect(outcomes(refused.result)).toEqual([expect.stringContaining(`${course.lessons[0]}: FAILED NOT_ASSIGNED`)]);

  await run('U7', [user], { courseIds: [course.id] });
  const back = await known(user, course.id);
  expect(back.status).toBe(ProgressStatus.PROGRESS_STATUS_COMPLETED);
});

it('merges Z into A keeping the best result, once per key, after a dry run that changes nothing', async () => {
  const [z, a] = [await newUser(), await newUser()];
  const shared = await newCourse(['L', 'A']);
  const own = await newCourse(['L']);
  await run('U7', [z, a], { courseIds: [shared.id] });
  await run('U7', [z], { courseIds: [own.id] });
  await known(z, shared.id);
  await known(a, shared.id);
  await known(z, own.id);
  const [l1, l2] = shared.lessons;
  // Z: l1 completed 60 (later), l2 failed 40; A: l1 completed 80, l2 incomplete.
  await set(z, shared.id, l1, ProgressStatus.PROGRESS_STATUS_COMPLETED, { score: 60, statusDate: '2026-01-05' });
  await set(z, shared.id, l2, ProgressStatus.PROGRESS_STATUS_FAILED, { score: 40, statusDate: '2026-01-06' });
  await set(a, shared.id, l1, ProgressStatus.PROGRESS_STATUS_COMPLETED, { score: 80, statusDate: '2026-01-01' });
  await set(a, shared.id, l2, ProgressStatus.PROGRESS_STATUS_INCOMPLETE, { statusDate: '2026-01-02' });
  await set(z, own.id, own.lessons[0], ProgressStatus.PROGRESS_STATUS_PASSED, { score: 90 });
  const k1 = (await post('/v1/catalog/competencies', { code: `K-${++n}`, name: 'One' })).id;
  const k2 = (await post('/v1/catalog/competencies', { code: `K-${++n}`, name: 'Two' })).id;
  await api.setCompetencyScores({ batch: key(), userIds: [z], competencyIds: [k1], score: 70, notEvaluated: false });
  await api.setCompetencyScores({ batch: key(), userIds: [z], competencyIds: [k2], notEvaluated: true });
  await api.setCompetencyScores({ batch: key(), userIds: [a], competencyIds: [k1], score: 50, notEvaluated: false });

  const expected = [
    `${shared.id}: SUCCEEDED course merged: incomplete → failed`,
    `${own.id}: SUCCEEDED course moved: completed`,
    `${k1}: SUCCEEDED competency merged: 50 → 70`,
    `${k2}: SUCCEEDED competency moved: not evaluated`,
  ].sort();
  const preview = await api.mergeUserProgress({ batch: dry, fromUserId: z, toUserId: a });
  expect(outcomes(preview.result).sort()).toEqual(expected);
  expect(await rows('lesson_progress', z)).toHaveLength(3);

  const merge = { batch: key(), fromUserId: z, toUserId: a };
  const merged = await api.mergeUserProgress(merge);
  expect(outcomes(merged.result).sort()).toEqual(expected);
  for (const table of ['lesson_progress', 'course_progress', 'curriculum_progress', 'competency_scores']) {
    expect(await rows(table, z)).toEqual([]);
  }
  const lessons = new Map((await rows('lesson_progress', a)).map((r) => [r.lesson_id, r]));
  expect(lessons.get(l1)).toMatchObject({ status: 'completed', score: 80 });
  expect(lessons.get(l2)).toMatchObject({ status: 'failed', score: 40 });
  expect(lessons.get(own.lessons[0])).toMatchObject({ status: 'passed', score: 90 });
  const courses = new Map((await rows('course_progress', a)).map((r) => [r.course_id, r.status]));
  expect(Object.fromEntries(courses)).toEqual({ [shared.id]: 'failed', [own.id]: 'completed' });
  const scores = new Map((await rows('competency_scores', a)).map((r) => [r.competency_id, r.score]));
  expect(Object.fromEntries(scores)).toEqual({ [k1]: 70, [k2]: null });

  // The same key again: the recorded answer, nothing applied twice.
  const again = await api.mergeUserProgress(merge);
  expect(again.result!.replayed).toBe(true);
  expect(outcomes(again.result).sort()).toEqual(expected);
  // A new key: Z has nothing left.
  expect(outcomes((await api.mergeUserProgress({ ...merge, batch: key() })).result)).toEqual([
    ': UNCHANGED NOTHING_TO_MOVE the user to delete has no progress',
  ]);
  await expect(api.mergeUserProgress({ batch: key(), fromUserId: a, toUserId: a })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: 'toUserId',
  });
});

it('refuses a merge of users outside the acting administrator’s scope or holding more rights', async () => {
  const inside = (await post('/v1/organisations', { extId: `IN-${++n}`, label: 'Inside' })).id;
  const role = (await post('/v1/roles', { name: `Stats ${n}`, permissions: ['*'] })).id;
  const login = `scoped-${n}`;
  const adminId = await newUser({ organisationId: inside, login, password: 'scoped admin password' });
  await post(`/v1/users/${adminId}/roles`, { roleIds: [role], organisationId: inside });
  const scoped = actingAs(stack.statistics.client, adminId).progress;
  const [mine, outside] = [await newUser({ organisationId: inside }), await newUser()];
  const out = await refusal(scoped.mergeUserProgress({ batch: key(), fromUserId: outside, toUserId: mine }));
  expect([out.code, out.field]).toEqual(['NOT_FOUND', 'fromUserId']);
  const kept = await refusal(scoped.mergeUserProgress({ batch: key(), fromUserId: mine, toUserId: outside }));
  expect([kept.code, kept.field]).toEqual(['NOT_FOUND', 'toUserId']);
  // A user of the scope who is an administrator of the whole tree: merged only by one who holds as much.
  const stronger = await newUser({ organisationId: inside });
  const root = (await stack.http('GET', '/v1/organisations')).body.items.find((o: any) => !o.parentId).id;
  await post(`/v1/users/${stronger}/roles`, { roleIds: [role], organisationId: root });
  const more = await refusal(scoped.mergeUserProgress({ batch: key(), fromUserId: stronger, toUserId: mine }));
  expect([more.code, more.field]).toEqual(['PERMISSION_DENIED', 'fromUserId']);
  expect((await stack.http('GET', `/v1/users/${outside}/progress`, { auth: basic(login, 'scoped admin password') })).status).toBe(404);
});

it('several writers on one course: its status follows every lesson, each change published once in order', async () => {
  const user = await newUser();
  const course = await newCourse(['L', 'L', 'A', 'W', 'T', 'L']);
  await run('U7', [user], { courseIds: [course.id] });
  await known(user, course.id);
  // Six batches at once, one per lesson: each locks the course's record before it follows.
  await Promise.all(course.lessons.map((lessonId) => set(user, course.id, lessonId, ProgressStatus.PROGRESS_STATUS_COMPLETED)));
  const progress = await api.getUserProgress({ userId: user });
  expect(progress.courses.find((c) => c.course!.id === course.id)!.status).toBe(ProgressStatus.PROGRESS_STATUS_COMPLETED);
  await stack.statistics.flushEvents();
  const changes = (await readStream(stack.statistics.bus, 'STATISTICS'))
    .filter((e) => e.subject === 'statistics.course.status-changed.v1' && (e.data as { userId: string }).userId === user)
    .map((e) => e.data as { previousStatus: string; status: string });
  expect(changes.map((c) => `${c.previousStatus} → ${c.status}`)).toEqual([
    'PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_INCOMPLETE',
    'PROGRESS_STATUS_INCOMPLETE → PROGRESS_STATUS_COMPLETED',
  ]);
});

it('a curriculum assigned to a learner who has done some of its courses starts where they are', async () => {
  const user = await newUser();
  const [done, todo] = [await newCourse(['L']), await newCourse(['L'])];
  await run('U7', [user], { courseIds: [done.id] });
  await known(user, done.id);
  await set(user, done.id, done.lessons[0], ProgressStatus.PROGRESS_STATUS_COMPLETED);
  const path = await post('/v1/curricula', { code: `PP-${++n}`, name: 'Path', courseIds: [done.id, todo.id] });
  await run('U12', [user], { curriculumIds: [path.id] });
  const curriculum = await until(async () => {
    const p = await api.getUserProgress({ userId: user });
    return p.curricula.find((c) => c.curriculum!.id === path.id && c.curriculum!.code !== '');
  }, 'the curriculum assignment');
  expect(curriculum.status).toBe(ProgressStatus.PROGRESS_STATUS_INCOMPLETE);
  await stack.statistics.flushEvents();
  const changes = (await readStream(stack.statistics.bus, 'STATISTICS')).filter(
    (e) => e.subject === 'statistics.curriculum.status-changed.v1' && (e.data as { userId: string }).userId === user,
  );
  expect(changes.map((e) => (e.data as { reason: string }).reason)).toEqual(['assignment']);
});

// Last: it stops the in-process replica, so that only the process consumes and answers.
it('survives a SIGKILL: assignments made meanwhile reach it after restart, a batch sent again is applied once', async () => {
  const proc = await startStatisticsProcess({
    nats: stack.nats,
    pg: stack.fixture.pg,
    identityAddress: stack.identity.address,
    catalogAddress: stack.catalog.address,
    // Events handed to the killed process come again after the ack wait: a short one here.
    env: { EVENTS_ACK_WAIT_SECONDS: '10' },
  });
  try {
    await stack.statistics.stop();
    const replica = actingAs(proc.client, stack.fixture.adminId).progress;
    const user = await newUser();
    const course = await newCourse(['L', 'A']);
    await proc.kill('SIGKILL');
    // Assigned while the statistics service is down: the events wait in the stream.
    await run('U7', [user], { courseIds: [course.id] });
    await proc.restart();
    await until(
      async () => {
        const p = await replica.getUserProgress({ userId: user });
        return p.courses.find((c) => c.course!.id === course.id && c.lessons.length === 2);
      },
      'the assignment made while it was down',
      40_000,
    );

    const request = {
      batch: key(),
      userIds: [user],
      courseId: course.id,
      lessonId: course.lessons[0],
      status: ProgressStatus.PROGRESS_STATUS_COMPLETED,
      resetAttempts: false,
      statusDate: '',
    };
    const first = await replica.setLessonProgress(request);
    await proc.kill('SIGKILL');
    await proc.restart();
    const again = await replica.setLessonProgress(request);
    expect(again.result!.replayed).toBe(true);
    expect(outcomes(again.result)).toEqual(outcomes(first.result));
    const lesson = await stack.identity.db.query('SELECT attempts FROM statistics.lesson_progress WHERE user_id = $1 AND lesson_id = $2', [
      user,
      course.lessons[0],
    ]);
    expect(lesson.rows).toEqual([{ attempts: 1 }]);
    // The killed process held the outbox relay's lease: the new one takes it when it runs out (15 s).
    const changes = await until(
      async () => {
        const events = (await readStream(stack.identity.bus, 'STATISTICS')).filter((e) => (e.data as { userId?: string }).userId === user);
        return events.length > 0 ? events : undefined;
      },
      'the status event',
      40_000,
    );
    expect(changes.map((e) => e.subject)).toEqual(['statistics.course.status-changed.v1']);
  } finally {
    await proc.stop();
  }
});
