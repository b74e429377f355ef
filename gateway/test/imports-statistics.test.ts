import { Assistants } from './assistants-support';

/**
 * The statistics imports through the gateway, on the whole stack: I5 lesson statistics, I6
 * course statistics, I9 external training records. Each checked on the state read back
 * (GET /v1/users/:id/progress, …/external-trainings, the statistics tables), the events
 * published, the counts, the log and the rejects file.
 */
const t = Assistants.forFile();

interface Course {
  id: string;
  code: string;
  lessons: Record<string, string>;
}

/** A course whose lessons are given as "name:type" (lesson codes `<course code>-<name>`). */
async function newCourse(spec: string[]): Promise<Course> {
  const code = t.unique('IMP');
  const lessons = spec.map((s) => {
    const [name, type] = s.split(':');
    return { code: `${code}-${name}`, name, type, optional: false };
  });
  const course = await t.post('/v1/courses', { code, name: `Course ${code}`, lessons });
  await t.eventually(async () => {
    const { rows } = await t.stack.statistics.db.query('SELECT 1 FROM lessons WHERE course_id = $1', [course.id]);
    return rows.length === lessons.length || undefined;
  }, `course ${code} in the statistics projection`);
  return { id: course.id, code, lessons: Object.fromEntries(course.lessons.map((l: any) => [l.name, l.id])) };
}

/** A user the statistics service knows (its identity projection). */
async function learner(fields: Record<string, unknown> = {}) {
  const user = await t.newUser(fields);
  await t.eventually(async () => {
    const { rows } = await t.stack.statistics.db.query('SELECT 1 FROM users WHERE id = $1', [user.id]);
    return rows.length === 1 || undefined;
  }, `user ${user.login} in the statistics projection`);
  return user;
}

const progress = (userId: string, auth?: string) => t.get(`/v1/users/${userId}/progress`, auth);
const courseOf = (p: any, id: string) => p.courses.find((c: any) => c.course.id === id);
const lessonOf = (p: any, courseId: string, lessonId: string) => courseOf(p, courseId).lessons.find((l: any) => l.lessonId === lessonId);

/** Assigns (U7) and waits until the statistics service has the assignment. */
async function assign(userId: string, courses: Course[]) {
  await t.users('U7', [userId], { courseIds: courses.map((c) => c.id) });
  await t.eventually(async () => {
    const p = await progress(userId);
    return courses.every((c) => courseOf(p, c.id)) || undefined;
  }, `the assignments of ${userId}`);
}

async function importFile(
  kind: string,
  csv: string,
  options: { dryRun?: boolean; options?: Record<string, string | boolean>; auth?: string } = {},
) {
  const auth = options.auth ?? t.stack.adminAuth;
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(csv)]), `${kind}.csv`);
  const response = await fetch(`${t.stack.url}/v1/imports/kinds/${kind}/uploads`, {
    method: 'POST',
    headers: { authorization: auth },
    body: form,
  });
  const uploaded = (await response.json()) as any;
  if (response.status !== 201 && response.status !== 200) throw new Error(`upload: ${response.status} ${JSON.stringify(uploaded)}`);
  const job = await t.post(
    '/v1/imports',
    { uploadId: uploaded.uploadId, dryRun: options.dryRun ?? false, options: options.options ?? {} },
    auth,
  );
  let done: any;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`import still running: ${JSON.stringify(done)}`);
    done = await t.get(`/v1/imports/${job.id}`, auth);
    if (done.status === 'completed' || done.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const text = async (file: string) =>
    (await fetch(`${t.stack.url}/v1/imports/${job.id}/${file}`, { headers: { authorization: auth } })).text();
  const lines = (s: string) =>
    s
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l !== '');
  return { job: done, counts: done.counts, log: lines(await text('log.csv')), rejects: lines(await text('rejects.csv')) };
}

const I5_HEADER = 'user_loginid;crsvname;lsnvname;lnk_type;lesson_status;lesson_status_date;lesson_score;lesson_time;ilt_status';
const i5 = (...rows: string[]) => [I5_HEADER, ...rows].join('\n') + '\n';
const I6_HEADER = 'user_loginid;crsvname;course_status;course_status_date;course_enrollement_date';
const i6 = (...rows: string[]) => [I6_HEADER, ...rows].join('\n') + '\n';
const I9_HEADER =
  'course_name;course_uid;passport_type;start_date;end_date;provider;duration;modality;learner_id;learner_lastname;learner_firstname;action';
const i9 = (...rows: string[]) => [I9_HEADER, ...rows].join('\n') + '\n';

/** The status-changed events about a user, as short lines. */
async function statusEvents(userId: string) {
  return (await t.events('STATISTICS'))
    .filter((e) => e.data.userId === userId)
    .map((e) => `${e.subject.split('.')[1]} ${e.data.previousStatus} → ${e.data.status} ${e.data.reason}`);
}

test('I5: lesson records added, the course and curriculum follow with their events; the same file again changes nothing', async () => {
  const ann = await learner();
  const course = await newCourse(['intro:L', 'quiz:A', 'class:T']);
  const path = await t.newCurriculum([course.id]);
  await t.users('U12', [ann.id], { curriculumIds: [path.id] });
  await t.eventually(
    async () => ((await progress(ann.id)).curricula.length === 1 && courseOf(await progress(ann.id), course.id)) || undefined,
    'U12',
  );
  const file = i5(
    `${ann.login};${course.code};${course.code}-intro;L;C;2026/03/02;80;600;`,
    `${ann.login};${course.code};${course.code}-quiz;A;P;2026/03/03;95;;`,
    `${ann.login};${course.code};${course.code}-class;T;C;2026/03/04;;3600;P`,
  );
  const first = await importFile('lesson-statistics', file);
  expect(first.job.status).toBe('completed');
  expect(first.counts).toEqual({ read: 3, added: 3, updated: 0, unchanged: 0, rejected: 0, warnings: 0 });
  const p = await progress(ann.id);
  expect(lessonOf(p, course.id, course.lessons.intro)).toMatchObject({
    status: 'completed',
    attempts: 1,
    score: 80,
    timeSpentSeconds: 600,
    statusDate: '2026-03-02T00:00:00.000Z',
  });
  expect(lessonOf(p, course.id, course.lessons.class)).toMatchObject({ status: 'completed', present: true });
  expect(courseOf(p, course.id)).toMatchObject({ status: 'completed', timeSpentSeconds: 4200 });
  expect(p.curricula[0].status).toBe('completed');
  const events = await statusEvents(ann.id);
  expect(events).toEqual([
    'course PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED lesson',
    'curriculum PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED lesson',
  ]);

  const again = await importFile('lesson-statistics', file);
  expect(again.counts).toEqual({ read: 3, added: 0, updated: 0, unchanged: 3, rejected: 0, warnings: 0 });
  expect(await statusEvents(ann.id)).toEqual(events);
  const { rows } = await t.stack.statistics.db.query('SELECT count(*)::int AS n FROM lesson_progress_sessions WHERE user_id = $1', [
    ann.id,
  ]);
  expect(rows[0].n).toBe(0);
});

test('I5: rows at fault are rejected, each named in the log and kept in the rejects file', async () => {
  const bob = await learner();
  const course = await newCourse(['intro:L', 'reading:E']);
  const unassigned = await newCourse(['only:L']);
  await assign(bob.id, [course]);
  const rows = [
    `${bob.login};${course.code};${course.code}-intro;A;C;;;;`,
    `nobody-${Date.now()};${course.code};${course.code}-intro;L;C;;;;`,
    `${bob.login};NO-SUCH-COURSE;${course.code}-intro;L;C;;;;`,
    `${bob.login};${course.code};NO-SUCH-LESSON;L;C;;;;`,
    `${bob.login};${course.code};${course.code}-intro;L;X;;;;`,
    `${bob.login};${course.code};${course.code}-intro;L;P;;101;;`,
    `${bob.login};${course.code};${course.code}-reading;E;C;;50;;`,
    `${bob.login};${unassigned.code};${unassigned.code}-only;L;C;;;;`,
    `${bob.login};${course.code};${course.code}-intro;L;I;2026/01/05;;120;`,
  ];
  const result = await importFile('lesson-statistics', i5(...rows));
  expect(result.counts).toMatchObject({ read: 9, added: 1, rejected: 8 });
  expect(result.log).toEqual([
    `2;lnk_type;A;error;lesson ${course.code}-intro is of type L, not A`,
    `3;user_loginid;${rows[1].split(';')[0]};error;no user with login ${rows[1].split(';')[0]}`,
    `4;crsvname;NO-SUCH-COURSE;error;no course with unique id NO-SUCH-COURSE`,
    `5;lsnvname;NO-SUCH-LESSON;error;course ${course.code} has no lesson with unique id NO-SUCH-LESSON`,
    '6;lesson_status;X;error;lesson_status must be one of C, P, F, I, N',
    '7;lesson_score;101;error;lesson_score must be from 0 to 100',
    `8;lesson_score;50;error;lesson ${course.code}-reading (type E) has no test: it takes no score`,
    `9;crsvname;${unassigned.code};error;the course is not assigned to this user`,
  ]);
  expect(result.rejects.map((r) => r.split(';').slice(0, 9).join(';'))).toEqual(rows.slice(0, 8));
  expect(lessonOf(await progress(bob.id), course.id, course.lessons.intro)).toMatchObject({ status: 'incomplete', timeSpentSeconds: 120 });
});

test('I5: a status that exists is rejected, or kept as history under a new session', async () => {
  const cid = await learner();
  const course = await newCourse(['intro:L']);
  await assign(cid.id, [course]);
  await importFile('lesson-statistics', i5(`${cid.login};${course.code};${course.code}-intro;L;F;2026/02/01;30;60;`));

  const changed = i5(`${cid.login};${course.code};${course.code}-intro;L;P;2026/02/10;75;90;`);
  const refused = await importFile('lesson-statistics', changed, { options: { whenStatusExists: 'reject' } });
  expect(refused.counts).toMatchObject({ rejected: 1, updated: 0 });
  expect(refused.log).toEqual(['2;lesson_status;P;error;the learner already has a status on this lesson (failed): the row is rejected']);
  expect(lessonOf(await progress(cid.id), course.id, course.lessons.intro)).toMatchObject({ status: 'failed', score: 30 });

  const session = await importFile('lesson-statistics', changed);
  expect(session.counts).toMatchObject({ updated: 1, rejected: 0 });
  expect(lessonOf(await progress(cid.id), course.id, course.lessons.intro)).toMatchObject({
    status: 'passed',
    score: 75,
    timeSpentSeconds: 90,
    attempts: 2,
  });
  const { rows } = await t.stack.statistics.db.query(
    'SELECT status, score, time_spent_seconds FROM lesson_progress_sessions WHERE user_id = $1',
    [cid.id],
  );
  expect(rows).toEqual([{ status: 'failed', score: 30, time_spent_seconds: 60 }]);
  // The same file under "reject" now: the record is what it says.
  expect((await importFile('lesson-statistics', changed, { options: { whenStatusExists: 'reject' } })).counts).toMatchObject({
    unchanged: 1,
  });
});

test('I5: a file with several sessions of one lesson records each; imported again, every row is unchanged', async () => {
  const gus = await learner();
  const course = await newCourse(['intro:L']);
  await assign(gus.id, [course]);
  const file = i5(
    `${gus.login};${course.code};${course.code}-intro;L;F;2026/02/01;40;;`,
    `${gus.login};${course.code};${course.code}-intro;L;P;2026/02/08;70;;`,
  );
  expect((await importFile('lesson-statistics', file)).counts).toMatchObject({ added: 1, updated: 1, rejected: 0 });
  expect(lessonOf(await progress(gus.id), course.id, course.lessons.intro)).toMatchObject({ status: 'passed', score: 70, attempts: 2 });
  const events = await statusEvents(gus.id);
  expect(events).toEqual(['course PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED lesson']);
  expect((await importFile('lesson-statistics', file)).counts).toMatchObject({ added: 0, updated: 0, unchanged: 2 });
  expect(await statusEvents(gus.id)).toEqual(events);
  const { rows } = await t.stack.statistics.db.query('SELECT status FROM lesson_progress_sessions WHERE user_id = $1', [gus.id]);
  expect(rows).toEqual([{ status: 'failed' }]);
});

test('I5: assignWhenMissing assigns the course through the assignment service first; a dry run writes nothing', async () => {
  const dan = await learner();
  const course = await newCourse(['intro:L']);
  const file = i5(`${dan.login};${course.code};${course.code}-intro;L;C;2026/03/01;;;`);

  const dry = await importFile('lesson-statistics', file, { dryRun: true, options: { assignWhenMissing: true } });
  expect(dry.counts).toMatchObject({ added: 1, rejected: 0 });
  expect((await t.courseAssignments(dan.id)).size).toBe(0);
  const { rows } = await t.stack.statistics.db.query('SELECT 1 FROM lesson_progress WHERE user_id = $1', [dan.id]);
  expect(rows).toHaveLength(0);

  const result = await importFile('lesson-statistics', file, { options: { assignWhenMissing: true } });
  expect(result.counts).toMatchObject({ added: 1, rejected: 0 });
  expect((await t.courseAssignments(dan.id)).has(course.id)).toBe(true);
  const assigned = (await t.events('ASSIGNMENT')).filter(
    (e) => e.subject === 'assignment.course.assigned.v1' && e.data.learner?.id === dan.id,
  );
  expect(assigned).toHaveLength(1);
  const p = await t.eventually(async () => {
    const p = await progress(dan.id);
    return courseOf(p, course.id) ? p : undefined;
  }, 'the assignment in the statistics projection');
  expect(courseOf(p, course.id).status).toBe('completed');
  expect(await statusEvents(dan.id)).toEqual(['course PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED lesson']);
});

test('I5 and I9: a scoped administrator imports for its own organisation only', async () => {
  const branch = await t.newOrganisation('Branch');
  const admin = await t.scopedAdministrator(branch, ['imports:run', 'statistics:write', 'statistics:read']);
  const inside = await learner({ organisationId: branch });
  const outside = await learner();
  const course = await newCourse(['intro:L']);
  await assign(inside.id, [course]);
  await assign(outside.id, [course]);
  const result = await importFile(
    'lesson-statistics',
    i5(`${inside.login};${course.code};${course.code}-intro;L;C;;;;`, `${outside.login};${course.code};${course.code}-intro;L;C;;;;`),
    { auth: admin.auth },
  );
  expect(result.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(result.log).toEqual([`3;user_loginid;${outside.login};error;you do not hold statistics:write on this user's organisation`]);

  // Without assignments:write, the course it would assign is refused by the assignment service.
  const other = await newCourse(['only:L']);
  const refused = await importFile('lesson-statistics', i5(`${inside.login};${other.code};${other.code}-only;L;C;;;;`), {
    auth: admin.auth,
    options: { assignWhenMissing: true },
  });
  expect(refused.counts).toMatchObject({ added: 0, rejected: 1 });
  expect(refused.log).toEqual([
    `2;crsvname;${other.code};error;the course could not be assigned: this needs the permission assignments:write`,
  ]);
  expect((await t.courseAssignments(inside.id)).has(other.id)).toBe(false);

  const trainings = await importFile(
    'external-trainings',
    i9(`First aid;;;2026/01/01;2026/01/02;;;;${inside.login};;;`, `First aid;;;2026/01/01;2026/01/02;;;;${outside.login};;;`),
    { auth: admin.auth },
  );
  expect(trainings.counts).toMatchObject({ added: 1, rejected: 1 });
  expect((await t.get(`/v1/users/${inside.id}/external-trainings`, admin.auth)).trainings).toHaveLength(1);
  expect((await t.request('GET', `/v1/users/${outside.id}/external-trainings`, undefined, admin.auth)).status).toBe(404);
});

test('I6: a course set as given (completed whatever its lessons), its event published; the same file again changes nothing', async () => {
  const eve = await learner();
  const course = await newCourse(['intro:L', 'quiz:A']);
  await assign(eve.id, [course]);
  const file = i6(`${eve.login};${course.code};C;2026/03/05;2026/01/10`);
  const result = await importFile('course-statistics', file);
  expect(result.counts).toEqual({ read: 1, added: 0, updated: 1, unchanged: 0, rejected: 0, warnings: 0 });
  const p = await progress(eve.id);
  expect(courseOf(p, course.id)).toMatchObject({ status: 'completed', statusDate: '2026-03-05T00:00:00.000Z' });
  expect(lessonOf(p, course.id, course.lessons.intro).status).toBe('not_started');
  const { rows } = await t.stack.statistics.db.query('SELECT enrolment_date::text FROM course_progress WHERE user_id = $1', [eve.id]);
  expect(rows).toEqual([{ enrolment_date: '2026-01-10' }]);
  const events = await statusEvents(eve.id);
  expect(events).toEqual(['course PROGRESS_STATUS_NOT_STARTED → PROGRESS_STATUS_COMPLETED import']);

  expect((await importFile('course-statistics', file)).counts).toMatchObject({ unchanged: 1 });
  expect(await statusEvents(eve.id)).toEqual(events);
  const refused = await importFile('course-statistics', i6(`${eve.login};${course.code};I;;`), { options: { whenStatusExists: 'reject' } });
  expect(refused.log).toEqual(['2;course_status;I;error;the learner already has a status on this course (completed): the row is rejected']);
  const unassigned = await newCourse(['only:L']);
  const missing = await importFile('course-statistics', i6(`${eve.login};${unassigned.code};I;;`));
  expect(missing.log).toEqual([`2;crsvname;${unassigned.code};error;the course is not assigned to this user`]);
});

test('I9: external training records added, updated, deleted, read through the gateway; the same file again changes nothing', async () => {
  const fay = await learner({ lastName: 'Martin', firstName: 'Fay' });
  const file = i9(
    `First aid;EXT-FA;Safety;2026/01/05;2026/01/06;Red Cross;14h;classroom;${fay.login};Martin;Fay;`,
    `Negotiation;;;2026/02/01;2026/02/01;;7h;online;${fay.login};Durand;;A`,
    `Welding;;;2026/02/05;2026/02/01;;;;${fay.login};;;`,
  );
  const first = await importFile('external-trainings', file);
  expect(first.counts).toEqual({ read: 3, added: 2, updated: 0, unchanged: 0, rejected: 1, warnings: 1 });
  expect(first.log).toEqual([
    `3;learner_lastname;Durand;warning;user ${fay.login} is Fay Martin`,
    '4;end_date;2026/02/01;error;end_date is before start_date',
  ]);
  const listed = await t.get(`/v1/users/${fay.id}/external-trainings`);
  expect(
    listed.trainings.map((r: any) => [r.courseName, r.courseCode, r.startDate, r.endDate, r.provider, r.duration, r.modality]),
  ).toEqual([
    ['Negotiation', '', '2026-02-01', '2026-02-01', '', '7h', 'online'],
    ['First aid', 'EXT-FA', '2026-01-05', '2026-01-06', 'Red Cross', '14h', 'classroom'],
  ]);
  expect((await importFile('external-trainings', file)).counts).toMatchObject({ added: 0, updated: 0, unchanged: 2, rejected: 1 });

  const changes = await importFile(
    'external-trainings',
    i9(
      `First aid (renamed);EXT-FA;Safety;2026/01/05;2026/01/07;Red Cross;14h;classroom;${fay.login};;;`,
      `Negotiation;;;2026/02/01;2026/02/01;;;;${fay.login};;;D`,
    ),
  );
  expect(changes.counts).toMatchObject({ updated: 2, rejected: 0 });
  const after = await t.get(`/v1/users/${fay.id}/external-trainings`);
  expect(after.trainings.map((r: any) => [r.courseName, r.endDate])).toEqual([['First aid (renamed)', '2026-01-07']]);
});

test('the sample files and documentation pages of I5, I6 and I9 come from their declarations', async () => {
  const header = async (kind: string) => {
    const response = await fetch(`${t.stack.url}/v1/imports/kinds/${kind}/sample.csv`, { headers: { authorization: t.stack.adminAuth } });
    return (await response.text()).replace(/^\uFEFF/, '').split(/\r?\n/)[0];
  };
  expect(await header('lesson-statistics')).toBe(I5_HEADER);
  expect(await header('course-statistics')).toBe(I6_HEADER);
  expect(await header('external-trainings')).toBe(I9_HEADER);
  const page = await fetch(`${t.stack.url}/v1/imports/kinds/lesson-statistics/documentation.md`, {
    headers: { authorization: t.stack.adminAuth },
  });
  const text = await page.text();
  expect(text).toContain('whenStatusExists');
  expect(text).toContain('assignWhenMissing');
});
