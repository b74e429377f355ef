import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Assistants, UNKNOWN_ID } from './assistants-support';

// M1, the user merge, end to end through the gateway's HTTP API on a real stack: the user to
// delete (Z) loses everything to the user to keep (A), and is deleted last.

const t = Assistants.forFile({ GATEWAY_RUN_POLL_MS: '50' });

async function merge(body: { deleteUserId: string; keepUserId: string; dryRun?: boolean }, auth?: string) {
  const correlationId = randomUUID();
  const created = await t.stack.http('POST', '/v1/merges', { body, auth, headers: { 'x-correlation-id': correlationId } });
  return { ...created, correlationId };
}

async function waitForMerge(id: string, auth?: string): Promise<any> {
  return t.eventually(async () => {
    const merge = await t.get(`/v1/merges/${id}`, auth);
    return merge.status === 'succeeded' || merge.status === 'failed' ? merge : undefined;
  }, `merge ${id} to end`);
}

const step = (merge: any, name: string) => merge.steps.find((s: any) => s.name === name);
const assignmentDb = () => t.stack.assignment.db;
const identityDb = () => t.stack.identity.db;

async function rowsOf(userId: string) {
  const q = (sql: string) =>
    assignmentDb()
      .query(sql, [userId])
      .then((r) => r.rows);
  return {
    courses: await q('SELECT * FROM course_assignments WHERE user_id = $1 ORDER BY course_id'),
    curricula: await q('SELECT * FROM curriculum_assignments WHERE user_id = $1 ORDER BY curriculum_id'),
    certificates: await q('SELECT * FROM certificates WHERE user_id = $1 ORDER BY course_id'),
    tutorships: await q('SELECT * FROM tutorships WHERE tutor_id = $1 ORDER BY course_id, list_id'),
    lists: (await identityDb().query('SELECT list_id, entered_at FROM list_members WHERE user_id = $1 ORDER BY list_id', [userId])).rows,
  };
}

/** Z and A with: a course only Z has, a course both have (different dates and option), a
 * curriculum (and its course) only Z has, certificates (one each side of the same course),
 * a tutorship, a list only Z is in and a list both are in (Z since earlier). */
async function twoUsers() {
  const [z, a] = await t.newUsers(2);
  const [onlyZ, both, inPath] = [await t.newCourse(), await t.newCourse(), await t.newCourse()];
  const path = await t.newCurriculum([inPath.id]);
  await t.users('U7', [z.id], { courseIds: [onlyZ.id] });
  await t.users('U7', [z.id], {
    courseIds: [both.id],
    option: 'recommended',
    startDate: '2027-01-10',
    objectiveDate: '2027-02-01',
    endDate: '2027-03-31',
  });
  await t.users('U7', [a.id], {
    courseIds: [both.id],
    option: 'free',
    startDate: '2027-01-20',
    objectiveDate: '2027-02-15',
    endDate: '2027-03-01',
    paymentMode: 'by_course',
    paymentCode: 'A-CODE',
  });
  await t.users('U12', [z.id], { curriculumIds: [path.id] });
  const zList = await t.newList([z.id]);
  const sharedList = await t.newList([a.id, z.id]);
  await identityDb().query(`UPDATE list_members SET entered_at = '2026-01-01T00:00:00Z' WHERE list_id = $1 AND user_id = $2`, [
    sharedList,
    z.id,
  ]);
  await assignmentDb().query(
    `INSERT INTO certificates (user_id, course_id, template_id, issued_at) VALUES
       ($1, $3, 'z-only', '2026-05-01T00:00:00Z'), ($1, $4, 'z-newer', '2026-06-01T00:00:00Z'), ($2, $4, 'a-older', '2026-04-01T00:00:00Z')`,
    [z.id, a.id, onlyZ.id, both.id],
  );
  await assignmentDb().query('INSERT INTO tutorships (tutor_id, course_id, list_id) VALUES ($1, $2, $3)', [z.id, onlyZ.id, zList]);
  return { z, a, onlyZ, both, inPath, path, zList, sharedList };
}

/** The progress GET /v1/users/:id/progress shows once `ready` says so. */
async function progressWhen(userId: string, ready: (p: any) => boolean): Promise<any> {
  return t.eventually(async () => {
    const p = await t.get(`/v1/users/${userId}/progress`);
    return ready(p) ? p : undefined;
  }, `the progress of ${userId}`);
}

/** A course with one SCORM lesson "q" (a test). */
async function courseWithTest(): Promise<{ id: string; lessonId: string }> {
  const code = t.unique('MERGE');
  const course = await t.post('/v1/courses', { code, name: `Course ${code}`, lessons: [{ code: `${code}-q`, name: 'q', type: 'L' }] });
  return { id: course.id, lessonId: course.lessons[0].id };
}

describe('POST /v1/merges', () => {
  it('moves progress first, the best result kept, and the kept user still shows it once the assignment events have reached the statistics service', async () => {
    const [z, a] = await t.newUsers(2);
    const [onlyZ, both] = [await courseWithTest(), await courseWithTest()];
    await t.users('U7', [z.id], { courseIds: [onlyZ.id, both.id] });
    await t.users('U7', [a.id], { courseIds: [both.id] });
    const lessonsShown = (p: any, n: number) => p.courses.length === n && p.courses.every((c: any) => c.lessons.length === 1);
    await progressWhen(z.id, (p) => lessonsShown(p, 2));
    await progressWhen(a.id, (p) => lessonsShown(p, 1));
    const s1 = (userId: string, course: { id: string; lessonId: string }, params: Record<string, unknown>) =>
      t.users('S1', [userId], { courseId: course.id, lessonId: course.lessonId, ...params });
    await s1(z.id, onlyZ, { status: 'passed', score: 80, statusDate: '2026-03-01' });
    await s1(z.id, both, { status: 'completed', score: 90, statusDate: '2026-02-01' });
    await s1(a.id, both, { status: 'failed', score: 40, statusDate: '2026-04-01' });

    const created = await merge({ deleteUserId: z.id, keepUserId: a.id });
    const done = await waitForMerge(created.body.id);
    expect(done).toMatchObject({ status: 'succeeded', succeeded: true });
    expect(step(done, 'progress').status).toBe('done');

    // A shows both courses (its projection of the assignments moved too), with Z's better records.
    const lesson = (p: any, courseId: string) => p.courses.find((c: any) => c.course.id === courseId)?.lessons[0];
    const p = await progressWhen(a.id, (p) => lessonsShown(p, 2));
    expect(lesson(p, onlyZ.id)).toMatchObject({ status: 'passed', score: 80 });
    expect(lesson(p, both.id)).toMatchObject({ status: 'completed', score: 90 });
    expect(p.courses.map((c: any) => [c.course.id, c.status]).sort()).toEqual(
      [
        [onlyZ.id, 'completed'],
        [both.id, 'completed'],
      ].sort(),
    );
    const left = await t.stack.statistics.db.query('SELECT count(*)::int AS n FROM lesson_progress WHERE user_id = $1', [z.id]);
    expect(left.rows[0].n).toBe(0);
  });

  it('moves assignments, certificates, tutorships and list memberships to the kept user, one assignment per course with the documented values, then deletes the merged user', async () => {
    const d = await twoUsers();
    const { z, a } = d;
    const created = await merge({ deleteUserId: z.id, keepUserId: a.id });
    expect(created.status).toBe(202);
    expect(created.headers.get('location')).toBe(`/v1/merges/${created.body.id}`);
    expect(created.body).toMatchObject({ deleteUserId: z.id, keepUserId: a.id, dryRun: false, status: 'pending', succeeded: null });

    const done = await waitForMerge(created.body.id);
    expect(done).toMatchObject({ status: 'succeeded', succeeded: true, error: null });
    expect(done.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['progress', 'done'],
      ['assignments', 'done'],
      ['memberships', 'done'],
      ['delete-user', 'done'],
    ]);
    expect(
      step(done, 'assignments')
        .results.map((r: any) => `${r.targetId} ${r.itemId}: ${r.outcome}`)
        .sort(),
    ).toEqual(
      [
        `course_assignment ${d.onlyZ.id}: succeeded`,
        `course_assignment ${d.both.id}: succeeded`,
        `course_assignment ${d.inPath.id}: succeeded`,
        `curriculum_assignment ${d.path.id}: succeeded`,
        `certificate ${d.onlyZ.id}: succeeded`,
        `certificate ${d.both.id}: succeeded`,
        `tutorship ${d.onlyZ.id}/${d.zList}: succeeded`,
      ].sort(),
    );
    expect(
      step(done, 'memberships')
        .results.map((r: any) => [r.itemId, r.outcome, r.code])
        .sort(),
    ).toEqual(
      [
        [d.zList, 'succeeded', ''],
        [d.sharedList, 'unchanged', 'ALREADY_MEMBER'],
      ].sort(),
    );
    expect(step(done, 'delete-user')).toMatchObject({ moved: 1, results: [{ itemId: z.id, outcome: 'succeeded' }] });

    // Z holds nothing and is gone; A holds everything once.
    expect(await rowsOf(z.id)).toEqual({ courses: [], curricula: [], certificates: [], tutorships: [], lists: [] });
    expect((await t.request('GET', `/v1/users/${z.id}`)).status).toBe(404);
    const kept = await rowsOf(a.id);
    const byCourse = new Map(kept.courses.map((r: any) => [r.course_id, r]));
    expect([...byCourse.keys()].sort()).toEqual([d.onlyZ.id, d.both.id, d.inPath.id].sort());
    // Same course: the earlier start, the later objective and end, the stronger option, A's payment.
    expect(byCourse.get(d.both.id)).toMatchObject({
      start_date: '2027-01-10',
      objective_date: '2027-02-15',
      end_date: '2027-03-31',
      option: 'recommended',
      payment_mode: 'by_course',
      payment_code: 'A-CODE',
      direct: true,
    });
    expect(byCourse.get(d.inPath.id)).toMatchObject({ direct: false, via_curricula: [d.path.id] });
    expect(kept.curricula.map((r: any) => r.curriculum_id)).toEqual([d.path.id]);
    expect(kept.certificates.map((r: any) => [r.course_id, r.template_id]).sort()).toEqual(
      [
        [d.onlyZ.id, 'z-only'],
        [d.both.id, 'z-newer'],
      ].sort(),
    );
    expect(kept.tutorships.map((r: any) => [r.course_id, r.list_id])).toEqual([[d.onlyZ.id, d.zList]]);
    const lists = new Map(kept.lists.map((r: any) => [r.list_id, r.entered_at.toISOString()]));
    expect([...lists.keys()].sort()).toEqual([d.zList, d.sharedList].sort());
    expect(lists.get(d.sharedList)).toBe('2026-01-01T00:00:00.000Z');

    // The projections follow from the usual events, under the merge's correlation id.
    const events = await t.eventsOf(created, 'ASSIGNMENT');
    const about = (subject: string, userId: string) =>
      events
        .filter((e) => e.subject === subject && e.data.assignment?.userId === userId)
        .map((e) => e.data.assignment.courseId ?? e.data.assignment.curriculumId)
        .sort();
    expect(about('assignment.course.removed.v1', z.id)).toEqual([d.onlyZ.id, d.both.id, d.inPath.id].sort());
    expect(about('assignment.course.assigned.v1', a.id)).toEqual([d.onlyZ.id, d.inPath.id].sort());
    const updated = events.find((e) => e.subject === 'assignment.course.updated.v1' && e.data.assignment.userId === a.id);
    expect(updated?.data.changedFields.sort()).toEqual(['end_date', 'option', 'start_date']);
    expect(about('assignment.curriculum.removed.v1', z.id)).toEqual([d.path.id]);
    expect(about('assignment.curriculum.assigned.v1', a.id)).toEqual([d.path.id]);
    const identityEvents = await t.eventsOf(created, 'IDENTITY');
    expect(identityEvents.map((e) => `${e.subject} ${e.data.userId ?? e.data.id}`)).toEqual(
      expect.arrayContaining([
        `identity.list-member.left.v1 ${z.id}`,
        `identity.list-member.entered.v1 ${a.id}`,
        `identity.user.deleted.v1 ${z.id}`,
      ]),
    );
  });

  it('answers a dry run with what would move, and changes nothing', async () => {
    const d = await twoUsers();
    const before = { z: await rowsOf(d.z.id), a: await rowsOf(d.a.id) };
    const created = await merge({ deleteUserId: d.z.id, keepUserId: d.a.id, dryRun: true });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ dryRun: true, status: 'succeeded', succeeded: true });
    expect(step(created.body, 'assignments')).toMatchObject({ status: 'done', moved: 7 });
    expect(step(created.body, 'memberships')).toMatchObject({ status: 'done', moved: 1 });
    expect(step(created.body, 'delete-user')).toMatchObject({ status: 'done', moved: 1 });
    expect(await t.get(`/v1/merges/${created.body.id}`)).toEqual(created.body);
    expect({ z: await rowsOf(d.z.id), a: await rowsOf(d.a.id) }).toEqual(before);
    expect((await t.request('GET', `/v1/users/${d.z.id}`)).status).toBe(200);
    expect(await t.eventsOf(created, 'ASSIGNMENT')).toEqual([]);
    expect(await t.eventsOf(created, 'IDENTITY')).toEqual([]);
  });

  it('refuses the same user twice, an unknown user, and bad ids before anything starts', async () => {
    const [z] = await t.newUsers(1);
    const same = await merge({ deleteUserId: z.id, keepUserId: z.id });
    expect(same.status).toBe(400);
    expect(same.body.field).toBe('keepUserId');
    const unknown = await merge({ deleteUserId: UNKNOWN_ID, keepUserId: z.id });
    expect(unknown.status).toBe(404);
    expect(unknown.body.field).toBe('deleteUserId');
    const bad = await merge({ deleteUserId: 'nope', keepUserId: z.id });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('deleteUserId');
    expect((await t.request('GET', `/v1/merges/${UNKNOWN_ID}`)).status).toBe(404);
  });

  it('lets a scoped administrator merge users of its scope only, and never a user who holds more rights', async () => {
    const scope = await t.newOrganisation('Merge scope');
    const outside = await t.newOrganisation('Merge outside');
    const admin = await t.scopedAdministrator(scope, [
      'users:read',
      'users:write',
      'assignments:read',
      'assignments:write',
      'statistics:write',
    ]);
    const course = await t.newCourse();
    const [inZ, inA, inB] = await t.newUsers(3, { organisationId: scope });
    const [outZ] = await t.newUsers(1, { organisationId: outside });
    await t.users('U7', [inZ.id, outZ.id], { courseIds: [course.id] });

    const outsideDelete = await merge({ deleteUserId: outZ.id, keepUserId: inA.id }, admin.auth);
    expect(outsideDelete.status).toBe(404);
    expect(outsideDelete.body.field).toBe('deleteUserId');
    const outsideKeep = await merge({ deleteUserId: inZ.id, keepUserId: outZ.id }, admin.auth);
    expect(outsideKeep.status).toBe(404);
    expect(outsideKeep.body.field).toBe('keepUserId');
    // A user of the scope who is an administrator of the whole tree.
    const root = (await t.get('/v1/organisations')).items.find((o: any) => !o.parentId).id;
    const administrator = (await t.get('/v1/roles?query=administrator')).items[0].id;
    await t.post(`/v1/users/${inB.id}/roles`, { roleIds: [administrator], organisationId: root });
    const stronger = await merge({ deleteUserId: inB.id, keepUserId: inA.id }, admin.auth);
    expect(stronger.status).toBe(403);
    expect(stronger.body.field).toBe('deleteUserId');
    const strongerKept = await merge({ deleteUserId: inZ.id, keepUserId: inB.id, dryRun: true }, admin.auth);
    expect(strongerKept.status).toBe(403);
    expect(strongerKept.body.field).toBe('keepUserId');
    // Nothing moved, nobody deleted.
    expect((await rowsOf(outZ.id)).courses).toHaveLength(1);
    expect((await rowsOf(inZ.id)).courses).toHaveLength(1);
    expect((await t.request('GET', `/v1/users/${inB.id}`)).status).toBe(200);

    // Within its scope it may; and the merge is its own (the tree's administrator sees it
    // through runs:read-all).
    const allowed = await merge({ deleteUserId: inZ.id, keepUserId: inA.id }, admin.auth);
    expect(allowed.status).toBe(202);
    const done = await waitForMerge(allowed.body.id, admin.auth);
    expect(done).toMatchObject({ status: 'succeeded', actorId: admin.id });
    expect((await rowsOf(inA.id)).courses.map((r: any) => r.course_id)).toEqual([course.id]);
    const other = await t.scopedAdministrator(scope, ['users:read']);
    expect((await t.request('GET', `/v1/merges/${allowed.body.id}`, undefined, other.auth)).status).toBe(404);
  });

  it('applies a step sent again (its result lost) once: the service answers what it recorded', async () => {
    const d = await twoUsers();
    const created = await merge({ deleteUserId: d.z.id, keepUserId: d.a.id });
    const first = await waitForMerge(created.body.id);
    expect(first.status).toBe('succeeded');
    const after = await rowsOf(d.a.id);
    const events = (await t.eventsOf(created, 'ASSIGNMENT')).length;
    // As if the gateway had been killed after the assignment step, before recording it: the
    // merge goes back to that step, its lease run out.
    const gateway = t.stack.gatewayDb;
    const client = new pg.Client({ connectionString: gateway.url });
    await client.connect();
    try {
      await client.query(
        `UPDATE gateway.merges SET status = 'running', next_step = 2, lease_owner = 'killed', lease_until = now() - interval '1 second',
           finished_at = NULL WHERE id = $1`,
        [created.body.id],
      );
      await client.query(`UPDATE gateway.merge_steps SET status = 'pending', results = '[]' WHERE merge_id = $1 AND step_no >= 2`, [
        created.body.id,
      ]);
    } finally {
      await client.end();
    }
    const again = await waitForMerge(created.body.id);
    expect(again.status).toBe('succeeded');
    expect(again.steps).toEqual(first.steps);
    expect(await rowsOf(d.a.id)).toEqual(after);
    expect((await t.eventsOf(created, 'ASSIGNMENT')).length).toBe(events);
    const keys = await assignmentDb().query('SELECT count(*)::int AS n FROM kit_batches WHERE idempotency_key = $1', [
      `merge:${created.body.id}:assignments`,
    ]);
    expect(keys.rows[0].n).toBe(1);
  });
});
