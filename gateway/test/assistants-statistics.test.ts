import { actingAs } from '@assistants/testing';
import { statisticsActions } from '../src/actions/statistics';
import { Assistants, lines, UNKNOWN_ID } from './assistants-support';

/**
 * The statistics actions through the gateway, as a client runs them: U9 and U14 (resets,
 * with the notify mail a real SMTP server receives), U20 (competency scores) and the
 * statistics assistant S1 (one lesson: the course and curriculum statuses follow), each
 * checked on the state read back (GET /v1/users/:id/progress), the events published on the
 * STATISTICS stream, and the refusals (a 400 naming params.<field>, a scoped administrator
 * outside its scope).
 */
const t = Assistants.forFile({}, { smtp: true });

interface Course {
  id: string;
  code: string;
  lessons: Record<string, string>;
}

/** A course whose lessons are given as "code:type" or "code:type?" (optional). */
async function newCourse(spec: string[]): Promise<Course> {
  const code = t.unique('STAT');
  const lessons = spec.map((s) => {
    const [name, type] = s.split(':');
    return { code: `${code}-${name}`, name, type: type.replace('?', ''), optional: type.endsWith('?') };
  });
  const course = await t.post('/v1/courses', { code, name: `Course ${code}`, lessons });
  return { id: course.id, code, lessons: Object.fromEntries(course.lessons.map((l: any) => [l.name, l.id])) };
}

const progress = (userId: string, auth?: string) => t.get(`/v1/users/${userId}/progress`, auth);

/** The user's progress once the statistics service has seen its assignments (and courses). */
async function progressWhen(userId: string, ready: (p: any) => boolean): Promise<any> {
  return t.eventually(async () => {
    const p = await progress(userId);
    return ready(p) ? p : undefined;
  }, `the progress of ${userId}`);
}

const courseOf = (p: any, id: string) => p.courses.find((c: any) => c.course.id === id);
const lessonOf = (p: any, courseId: string, lessonId: string) => courseOf(p, courseId).lessons.find((l: any) => l.lessonId === lessonId);

/** Assigns the courses (U7) and waits until the statistics service shows them with their lessons. */
async function assigned(userId: string, courses: Course[]): Promise<void> {
  await t.users('U7', [userId], { courseIds: courses.map((c) => c.id) });
  await progressWhen(userId, (p) => courses.every((c) => courseOf(p, c.id)?.lessons.length === Object.keys(c.lessons).length));
}

function s1(userId: string, course: Course, lesson: string, params: Record<string, unknown>) {
  return t.users('S1', [userId], { courseId: course.id, lessonId: course.lessons[lesson], ...params });
}

it('declares U9, U14, U20 and S1 on the user assistant', async () => {
  expect(statisticsActions.map((a) => [a.id, a.assistant])).toEqual([
    ['U9', 'users'],
    ['U14', 'users'],
    ['U20', 'users'],
    ['S1', 'users'],
  ]);
  const listed = await t.get('/v1/actions?assistant=users');
  expect(listed.items.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['U9', 'U14', 'U20', 'S1']));
});

it('S1 sets a lesson; the course and the curriculum follow, each change published', async () => {
  const { id: ann } = await t.newUser();
  const main = await newCourse(['intro:L', 'mission:A', 'extra:L?', 'handout:E']);
  const other = await newCourse(['only:L']);
  const path = await t.newCurriculum([main.id, other.id]);
  await t.users('U12', [ann], { curriculumIds: [path.id] });
  await progressWhen(ann, (p) => p.curricula.length === 1 && p.courses.length === 2 && courseOf(p, main.id).lessons.length === 4);

  const first = await s1(ann, main, 'intro', { status: 'completed', score: 80, timeSpentSeconds: 600, statusDate: '2026-03-02' });
  expect(lines(first.results)).toEqual([`${first.results[0].itemLabel} ${main.lessons.intro}: succeeded`]);
  let p = await progress(ann);
  expect(lessonOf(p, main.id, main.lessons.intro)).toMatchObject({
    type: 'L',
    counts: true,
    hasTest: true,
    status: 'completed',
    attempts: 1,
    score: 80,
    statusDate: '2026-03-02T00:00:00.000Z',
    timeSpentSeconds: 600,
  });
  expect(courseOf(p, main.id)).toMatchObject({ status: 'incomplete', timeSpentSeconds: 600 });
  expect(p.curricula[0]).toMatchObject({ status: 'incomplete' });

  // The mission done: the optional lesson and the resource are not needed.
  await s1(ann, main, 'mission', { status: 'passed', score: 95 });
  p = await progress(ann);
  expect(courseOf(p, main.id).status).toBe('completed');
  expect(lessonOf(p, main.id, main.lessons.extra).status).toBe('not_started');
  expect(p.curricula[0].status).toBe('incomplete');
  const run = await s1(ann, other, 'only', { status: 'completed' });
  p = await progress(ann);
  expect(courseOf(p, other.id).status).toBe('completed');
  expect(p.curricula[0].status).toBe('completed');

  const published = (await t.events('STATISTICS')).filter((e) => e.data.userId === ann);
  expect(
    published.map((e) => `${e.subject} ${e.data.course?.code ?? e.data.curriculum?.code} ${e.data.previousStatus} → ${e.data.status}`),
  ).toEqual([
    `statistics.course.status-changed.v1 ${main.code} PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_INCOMPLETE`,
    `statistics.curriculum.status-changed.v1 ${path.code} PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_INCOMPLETE`,
    `statistics.course.status-changed.v1 ${main.code} PROGRESS_STATUS_INCOMPLETE → PROGRESS_STATUS_COMPLETED`,
    `statistics.course.status-changed.v1 ${other.code} PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED`,
    `statistics.curriculum.status-changed.v1 ${path.code} PROGRESS_STATUS_INCOMPLETE → PROGRESS_STATUS_COMPLETED`,
  ]);
  expect((await t.eventsOf(run.run, 'STATISTICS')).map((e) => e.data.reason)).toEqual(['lesson', 'lesson']);
});

it('S1 resets the attempt count only together with "not started", and takes a score only on a lesson with a test', async () => {
  const { id: bob } = await t.newUser();
  const course = await newCourse(['quiz:L', 'reading:E', 'class:T']);
  await assigned(bob, [course]);
  await s1(bob, course, 'quiz', { status: 'failed', score: 30 });
  await s1(bob, course, 'quiz', { status: 'passed', score: 70 });
  expect(lessonOf(await progress(bob), course.id, course.lessons.quiz)).toMatchObject({ status: 'passed', attempts: 2, score: 70 });

  const refused = await t.startRun({
    assistant: 'users',
    action: 'S1',
    selection: { type: 'ids', ids: [bob] },
    params: { courseId: course.id, lessonId: course.lessons.quiz, status: 'incomplete', resetAttempts: true },
  });
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ error: 'invalid_argument', field: 'params.resetAttempts' });
  const noTest = await t.startRun({
    assistant: 'users',
    action: 'S1',
    selection: { type: 'ids', ids: [bob] },
    params: { courseId: course.id, lessonId: course.lessons.reading, status: 'completed', score: 50 },
  });
  expect(noTest.body).toMatchObject({ error: 'invalid_argument', field: 'params.score' });
  const wrongLesson = await t.startRun({
    assistant: 'users',
    action: 'S1',
    selection: { type: 'ids', ids: [bob] },
    params: { courseId: course.id, lessonId: UNKNOWN_ID, status: 'completed' },
  });
  expect(wrongLesson.body).toMatchObject({ error: 'invalid_argument', field: 'params.lessonId' });

  await s1(bob, course, 'quiz', { status: 'not_started', resetAttempts: true });
  expect(lessonOf(await progress(bob), course.id, course.lessons.quiz)).toMatchObject({ status: 'not_started', attempts: 0 });
  await s1(bob, course, 'class', { status: 'completed', present: true });
  expect(lessonOf(await progress(bob), course.id, course.lessons.class)).toMatchObject({ status: 'completed', present: true });

  // A course that is not assigned to the user: its result says so.
  const unassigned = await newCourse(['x:L']);
  expect(lines((await s1(bob, unassigned, 'x', { status: 'completed' })).results)).toEqual([
    `${(await t.user(bob)).login} ${unassigned.lessons.x}: failed NOT_ASSIGNED`,
  ]);
});

it('U9 clears the progress, keeps the assignment and mails the learner', async () => {
  const { id: cid, login } = await t.newUser({ email: 'cid@example.test' });
  const course = await newCourse(['a:L', 'b:L']);
  const never = await newCourse(['z:L']);
  await assigned(cid, [course]);
  await s1(cid, course, 'a', { status: 'completed', timeSpentSeconds: 100 });
  expect(courseOf(await progress(cid), course.id).status).toBe('incomplete');

  t.smtp!.received.length = 0;
  const run = await t.users('U9', [cid], { courseIds: [course.id, never.id], notifyTemplateId: t.template('course-removed') });
  expect(lines(run.results, { [course.id]: 'course', [never.id]: 'never' })).toEqual([
    `${login} course: succeeded`,
    `${login} never: failed NOT_ASSIGNED`,
  ]);
  const p = await progress(cid);
  expect(courseOf(p, course.id)).toMatchObject({ status: 'not_started', timeSpentSeconds: 0 });
  expect(courseOf(p, course.id).lessons.map((l: any) => [l.status, l.attempts, l.timeSpentSeconds])).toEqual([
    ['not_started', 0, 0],
    ['not_started', 0, 0],
  ]);
  expect((await t.courseAssignments(cid)).has(course.id)).toBe(true);

  const published = await t.eventsOf(run.run, 'STATISTICS');
  expect(published.map((e) => e.subject)).toEqual(['statistics.course.status-changed.v1', 'statistics.course.reset.v1']);
  expect(published[1].data).toMatchObject({
    learner: { id: cid, login, email: 'cid@example.test' },
    course: { id: course.id, code: course.code },
    previousStatus: 'PROGRESS_STATUS_INCOMPLETE',
    notifyTemplateId: t.template('course-removed'),
  });
  const [mail] = await t.smtp!.waitFor(1);
  expect(mail.to).toEqual(['cid@example.test']);
  expect(mail.subject).toBe('course-removed');

  // A template that does not exist: refused before anything starts.
  const refused = await t.startRun({
    assistant: 'users',
    action: 'U9',
    selection: { type: 'ids', ids: [cid] },
    params: { courseIds: [course.id], notifyTemplateId: UNKNOWN_ID },
  });
  expect(refused.status).toBe(400);
  expect(refused.body.field).toBe('params.notifyTemplateId');
});

it('U14 resets curricula, and their courses when asked, and mails once per learner and curriculum', async () => {
  const { id: dee, login } = await t.newUser({ email: 'dee@example.test' });
  const a = await newCourse(['x:L']);
  const b = await newCourse(['y:L']);
  const path = await t.newCurriculum([a.id, b.id]);
  await t.users('U12', [dee], { curriculumIds: [path.id] });
  await progressWhen(dee, (p) => p.curricula.length === 1 && p.courses.length === 2 && p.courses.every((c: any) => c.lessons.length === 1));
  await s1(dee, a, 'x', { status: 'completed' });
  await s1(dee, b, 'y', { status: 'completed' });
  expect((await progress(dee)).curricula[0].status).toBe('completed');

  // Without its courses: the curriculum starts over, the courses keep their progress.
  t.smtp!.received.length = 0;
  const alone = await t.users('U14', [dee], { curriculumIds: [path.id], notifyTemplateId: t.template('path-removed') });
  expect(lines(alone.results, { [path.id]: 'path' })).toEqual([`${login} path: succeeded`]);
  let p = await progress(dee);
  expect(p.curricula[0].status).toBe('not_started');
  expect(p.courses.map((c: any) => c.status)).toEqual(['completed', 'completed']);
  expect((await t.eventsOf(alone.run, 'STATISTICS')).map((e) => e.subject)).toEqual([
    'statistics.curriculum.status-changed.v1',
    'statistics.curriculum.reset.v1',
  ]);
  const [mail] = await t.smtp!.waitFor(1);
  expect(mail).toMatchObject({ to: ['dee@example.test'], subject: 'path-removed' });

  // With its courses.
  const all = await t.users('U14', [dee], { curriculumIds: [path.id], resetCourses: true });
  expect(lines(all.results, { [path.id]: 'path' })).toEqual([`${login} path: succeeded`]);
  p = await progress(dee);
  expect(p.courses.map((c: any) => c.status)).toEqual(['not_started', 'not_started']);
  expect((await t.eventsOf(all.run, 'STATISTICS')).map((e) => e.subject).sort()).toEqual([
    'statistics.course.reset.v1',
    'statistics.course.reset.v1',
    'statistics.course.status-changed.v1',
    'statistics.course.status-changed.v1',
    'statistics.curriculum.reset.v1',
  ]);
});

it('U20 sets competency scores, or "not evaluated"', async () => {
  const [eve, fay] = await t.newUsers(2);
  const reading = (await t.post('/v1/catalog/competencies', { code: t.unique('READ'), name: 'Reading' })).id;
  const writing = (await t.post('/v1/catalog/competencies', { code: t.unique('WRITE'), name: 'Writing' })).id;
  const scored = await t.users('U20', [eve.id, fay.id], { competencyIds: [reading, writing], score: 72 });
  expect(scored.results.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  const again = await t.users('U20', [eve.id], { competencyIds: [reading], score: 72 });
  expect(lines(again.results, { [reading]: 'reading' })).toEqual([`${eve.login} reading: unchanged NO_CHANGE`]);
  await t.users('U20', [fay.id], { competencyIds: [writing], notEvaluated: true });
  expect((await progress(fay.id)).competencies.map((c: any) => [c.competencyId, c.score]).sort()).toEqual(
    [
      [reading, 72],
      [writing, null],
    ].sort(),
  );

  for (const [params, field] of [
    [{ competencyIds: [reading] }, 'params.score'],
    [{ competencyIds: [reading], score: 10, notEvaluated: true }, 'params.notEvaluated'],
    [{ competencyIds: [UNKNOWN_ID], score: 10 }, 'params.competencyIds[0]'],
  ] as const) {
    const refused = await t.startRun({ assistant: 'users', action: 'U20', selection: { type: 'ids', ids: [eve.id] }, params });
    expect([refused.status, refused.body.field]).toEqual([400, field]);
  }
});

it('a scoped administrator sees and changes progress only inside its scope', async () => {
  const inside = await t.newOrganisation('Inside');
  const { id: gus } = await t.newUser({ organisationId: inside });
  const { id: hal } = await t.newUser();
  const course = await newCourse(['l:L']);
  await assigned(gus, [course]);
  await assigned(hal, [course]);
  const scoped = await t.scopedAdministrator(inside, ['*']);

  expect((await t.request('GET', `/v1/users/${gus}/progress`, undefined, scoped.auth)).status).toBe(200);
  expect((await t.request('GET', `/v1/users/${hal}/progress`, undefined, scoped.auth)).status).toBe(404);

  // The run engine resolves selections in the caller's scope; the service checks each item
  // again, as here where the batch is sent as the run engine sends it on the scoped
  // administrator's behalf.
  const upstreams = {
    identity: t.stack.fixture.api,
    catalog: actingAs(t.stack.catalog.client, scoped.id),
    assignment: actingAs(t.stack.assignment.client, scoped.id),
    notification: actingAs(t.stack.notification.client, scoped.id),
    statistics: actingAs(t.stack.statistics.client, scoped.id),
  };
  const action = (id: string) => statisticsActions.find((a) => a.id === id)!;
  const batch = { idempotencyKey: t.unique('scoped'), dryRun: false };
  const reset = await action('U9').apply(upstreams, [gus, hal], { courseIds: [course.id] }, batch);
  expect(reset.results.map((r) => [r.itemId, r.code])).toEqual([
    [gus, ''],
    [hal, 'OUT_OF_SCOPE'],
  ]);
  const set = await action('S1').apply(
    upstreams,
    [hal],
    { courseId: course.id, lessonId: course.lessons.l, status: 'completed' },
    { idempotencyKey: t.unique('scoped'), dryRun: false },
  );
  expect(set.results.map((r) => r.code)).toEqual(['OUT_OF_SCOPE']);
  expect(courseOf(await progress(hal), course.id).status).toBe('not_started');
});
