import { TemplateContext } from '@assistants/proto/gen/notification/v1/templates';
import {
  actingAs,
  EventLog,
  startAssignment,
  startCatalog,
  startIdentityFixture,
  startImport,
  startNotification,
  type IdentityFixture,
  type ImportClient,
  type TestAssignment,
  type TestCatalog,
  type TestImport,
  type TestNotification,
} from '@assistants/testing';
import { runImport } from './helpers';

/** I3 course assignments and I4 curriculum assignments through the import service and the
 * assignment service (with identity and the catalogue). */

let fixture: IdentityFixture;
let catalog: TestCatalog;
let assignment: TestAssignment;
let notification: TestNotification;
let service: TestImport;
let admin: ImportClient;
let events: EventLog;
const ids: Record<string, string> = {};

/** A user's course assignments, by course code. */
async function courseAssignments(login: string): Promise<Record<string, Record<string, unknown>>> {
  const { rows } = await assignment.db.query<Record<string, any>>(
    `SELECT course_id, start_date::text, objective_date::text, end_date::text, option, payment_mode, payment_code, unit_cost::text,
            external_session_id, session_enrolment_status, direct, via_curricula
       FROM course_assignments WHERE user_id = $1`,
    [ids[login]],
  );
  const codes = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  return Object.fromEntries(rows.map(({ course_id, ...rest }) => [codes[course_id], rest]));
}

const lines = (b: Buffer) => b.toString().split('\r\n').slice(1, -1);

beforeAll(async () => {
  fixture = await startIdentityFixture('import_assignments');
  const common = { nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address };
  catalog = await startCatalog(common);
  assignment = await startAssignment({ ...common, catalogAddress: catalog.address });
  notification = await startNotification(common);
  // Only 3 keys in memory: the others (a learner and a course) go through the job's keys table.
  service = await startImport({
    ...common,
    notificationAddress: notification.address,
    assignmentAddress: assignment.address,
    env: { IMPORT_KEYS_IN_MEMORY: '3' },
  });
  admin = actingAs(service.client, fixture.adminId);
  events = new EventLog(assignment, 'ASSIGNMENT');

  const org = async (extId: string) =>
    (await fixture.api.organisations.createOrganisation({ fields: { extId, label: extId } })).organisation!.id;
  ids.NORTH = await org('NORTH');
  ids.SOUTH = await org('SOUTH');
  ids.Sales = (await fixture.api.audiences.createAudience({ name: 'Sales', description: '' })).audience!.id;
  const user = async (login: string, organisationId: string, audienceIds: string[] = []) => {
    const { user } = await fixture.api.users.createUser({
      fields: { login, lastName: login.toUpperCase(), firstName: 'Test', email: `${login}@example.org`, language: 'fr-FR', organisationId },
      audienceIds,
    });
    ids[login] = user!.id;
  };
  await user('claire', ids.NORTH, [ids.Sales]);
  await user('paul', ids.NORTH);
  await user('sam', ids.SOUTH);
  const api = actingAs(catalog.client, fixture.adminId);
  const course = async (code: string, options: { audienceIds?: string[]; disabled?: boolean } = {}) => {
    const { course } = await api.courses.createCourse({
      fields: { code, name: `Course ${code}`, disabled: options.disabled },
      audienceIds: options.audienceIds ?? [],
      lessons: [],
    });
    ids[code] = course!.id;
  };
  await course('SAFETY');
  await course('SALES-101', { audienceIds: [ids.Sales] });
  await course('OLD', { disabled: true });
  await course('FIRST-STEPS');
  await course('TOOLS');
  const { curriculum } = await api.curricula.createCurriculum({
    fields: { code: 'ONBOARDING', name: 'Onboarding' },
    audienceIds: [],
    courseIds: [ids['FIRST-STEPS'], ids.TOOLS],
  });
  ids.ONBOARDING = curriculum!.id;
  const { curriculum: sales } = await api.curricula.createCurriculum({
    fields: { code: 'SALES-PATH', name: 'Sales path' },
    audienceIds: [ids.Sales],
    courseIds: [ids['SALES-101']],
  });
  ids['SALES-PATH'] = sales!.id;
});
afterAll(async () => {
  await service?.stop();
  await notification?.stop();
  await assignment?.stop();
  await catalog?.stop();
  await fixture?.stop();
});

const HEADER =
  'user_loginid;crsvname;start_date;end_date;objective_date;external_session_id;assignment_option;billing_mode;billing_code;session_enrolment_status;unit_cost';
const FILE = [
  HEADER,
  'claire;SAFETY;2025/01/06;2025/06/30;2025/03/31;SESS-1;Mandatory;ByCourse;PO-17;registered;450.00',
  'Paul;safety;;;;;;;;;',
  'nobody;SAFETY;;;;;;;;;',
  'claire;NO-SUCH;;;;;;;;;',
  'paul;OLD;;;;;;;;;',
  'paul;SALES-101;2025/02/30;;;;;;;;',
  'claire;SALES-101;2025/06/01;2025/01/01;;;;;;;',
].join('\r\n');

test('assigns courses as U7 does: the values of the row; unknown login or course, disabled course, bad dates rejected', async () => {
  await events.next();
  const { job, log, rejects } = await runImport(admin, 'course-assignments', FILE);
  expect(job.counts).toEqual({ read: 7, added: 2, updated: 0, unchanged: 0, rejected: 5, warnings: 1 });
  expect(lines(log)).toEqual([
    // No session SESS-1 was imported (I8) for SAFETY: kept as given, with a warning.
    '2;external_session_id;SESS-1;warning;"external_session_id: course SAFETY has no session ""SESS-1"" (kept as given)"',
    '4;user_loginid;nobody;error;"user_loginid: no user with login ""nobody"""',
    '5;crsvname;NO-SUCH;error;"crsvname: no course with code ""NO-SUCH"""',
    '6;crsvname;OLD;error;crsvname: course OLD is disabled',
    '7;start_date;2025/02/30;error;start_date must be a date YYYY/MM/DD',
    '8;end_date;2025/01/01;error;end_date is before start_date',
  ]);
  expect(lines(rejects)[0]).toBe('nobody;SAFETY;;;;;;;;;;"user_loginid: no user with login ""nobody"""');
  expect(await courseAssignments('claire')).toEqual({
    SAFETY: {
      start_date: '2025-01-06',
      objective_date: '2025-03-31',
      end_date: '2025-06-30',
      option: 'mandatory',
      payment_mode: 'by_course',
      payment_code: 'PO-17',
      unit_cost: '450.00',
      external_session_id: 'SESS-1',
      session_enrolment_status: 'registered',
      direct: true,
      via_curricula: [],
    },
  });
  expect(await courseAssignments('paul')).toEqual({
    SAFETY: expect.objectContaining({ start_date: null, option: 'free', payment_mode: '', unit_cost: null, external_session_id: '' }),
  });
  const published = await events.next();
  expect(published.map((e) => [e.subject, (e.data as any).learner.login, (e.data as any).course.code])).toEqual([
    ['assignment.course.assigned.v1', 'claire', 'SAFETY'],
    ['assignment.course.assigned.v1', 'paul', 'SAFETY'],
  ]);
  expect((published[0].data as any).notifyTemplateId ?? '').toBe('');
});

test('the same file again: every row unchanged, nothing written, no event', async () => {
  await events.next();
  const before = await courseAssignments('claire');
  const { job } = await runImport(admin, 'course-assignments', FILE);
  expect(job.counts).toEqual({ read: 7, added: 0, updated: 0, unchanged: 2, rejected: 5, warnings: 1 });
  expect(await events.next()).toEqual([]);
  expect(await courseAssignments('claire')).toEqual(before);
});

test('existing assignments change with updateExisting only, from the filled cells', async () => {
  const file = [HEADER, 'claire;SAFETY;;2025/09/30;;SESS-2;Recommended;;;;'].join('\n');
  await events.next();
  const kept = await runImport(admin, 'course-assignments', file);
  expect(kept.job.counts).toMatchObject({ unchanged: 1, updated: 0 });
  expect(await events.next()).toEqual([]);

  const changed = await runImport(admin, 'course-assignments', file, { options: { updateExisting: 'true' } });
  expect(changed.job.counts).toMatchObject({ unchanged: 0, updated: 1, rejected: 0 });
  expect((await courseAssignments('claire')).SAFETY).toMatchObject({
    start_date: '2025-01-06',
    end_date: '2025-09-30',
    option: 'recommended',
    payment_code: 'PO-17',
    external_session_id: 'SESS-2',
    session_enrolment_status: 'registered',
  });
  const published = await events.next();
  expect(published.map((e) => [e.subject, (e.data as any).changedFields])).toEqual([
    ['assignment.course.updated.v1', ['end_date', 'option']],
  ]);

  // A change that would put the dates out of order rejects the row, and changes nothing.
  const bad = await runImport(admin, 'course-assignments', [HEADER, 'claire;SAFETY;;2024/12/31;;SESS-3;;;;;'].join('\n'), {
    options: { updateExisting: 'true' },
  });
  expect(bad.job.counts).toMatchObject({ rejected: 1 });
  expect(lines(bad.log)).toEqual(['2;end_date;2024/12/31;error;end_date is before start_date once changed']);
  expect((await courseAssignments('claire')).SAFETY).toMatchObject({ end_date: '2025-09-30', external_session_id: 'SESS-2' });
});

test('an external session id that names a session of the course (I8) gives no warning', async () => {
  const { result } = await actingAs(catalog.client, fixture.adminId).sessions.importSessions({
    batch: { idempotencyKey: 'import:test-sessions:1', dryRun: false },
    rows: [
      {
        itemId: '2',
        courseCode: 'TOOLS',
        lessonSessions: [],
        start: '2025-03-03T09:00',
        externalId: 'TOOLS-MARCH',
        status: 'O',
        maxParticipants: 10,
        immediateConfirmation: false,
        waitingList: false,
        trainerLogin: 'claire',
        additionalTrainerLogins: [],
        roomExtId: '',
        managerLogin: '',
        organisationExtIds: [],
      },
    ],
  });
  expect(result!.results.map((r) => r.code)).toEqual(['ADDED']);
  const file = [HEADER, 'sam;TOOLS;;;;tools-march;;;;;', 'sam;SAFETY;;;;TOOLS-MARCH;;;;;'].join('\n');
  const { job, log } = await runImport(admin, 'course-assignments', file, { dryRun: true });
  expect(job.counts).toMatchObject({ added: 2, warnings: 1 });
  expect(lines(log)).toEqual([
    '3;external_session_id;TOOLS-MARCH;warning;"external_session_id: course SAFETY has no session ""TOOLS-MARCH"" (kept as given)"',
  ]);
});

test('audiences: respected by default, ignored with respectAudiences false', async () => {
  const file = [HEADER, 'paul;SALES-101;;;;;;;;;', 'claire;SALES-101;;;;;;;;;'].join('\n');
  const respected = await runImport(admin, 'course-assignments', file, { dryRun: true });
  expect(respected.job.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(lines(respected.log)).toEqual(['2;crsvname;SALES-101;error;crsvname: the user shares none of the audiences of course SALES-101']);
  const ignored = await runImport(admin, 'course-assignments', file, { options: { respectAudiences: 'false' } });
  expect(ignored.job.counts).toMatchObject({ added: 2, rejected: 0 });
  expect(Object.keys(await courseAssignments('paul')).sort()).toEqual(['SAFETY', 'SALES-101']);
});

test('a dry run gives the counts, log and rejects of the real run and writes nothing', async () => {
  const file = [HEADER, 'sam;SAFETY;2025/01/01;;;;;;;;', 'sam;NO-SUCH;;;;;;;;;'].join('\n');
  await events.next();
  const dry = await runImport(admin, 'course-assignments', file, { dryRun: true });
  expect(dry.job.counts).toEqual({ read: 2, added: 1, updated: 0, unchanged: 0, rejected: 1, warnings: 0 });
  expect(await courseAssignments('sam')).toEqual({});
  expect(await events.next()).toEqual([]);
  const real = await runImport(admin, 'course-assignments', file);
  expect([real.job.counts, lines(real.log), lines(real.rejects)]).toEqual([dry.job.counts, lines(dry.log), lines(dry.rejects)]);
  expect(Object.keys(await courseAssignments('sam'))).toEqual(['SAFETY']);
});

test("a scoped administrator's import: a user outside its scope is rejected and not assigned", async () => {
  const { user: scoped } = await fixture.api.users.createUser({
    fields: { login: 'north-admin', lastName: 'North', firstName: 'Admin', organisationId: ids.NORTH },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'North assigner',
    description: '',
    permissions: ['imports:run', 'assignments:write', 'users:read'],
  });
  await fixture.api.roles.grantRoles({ userIds: [scoped!.id], roleIds: [role!.id], organisationId: ids.NORTH });
  ids['north-admin'] = scoped!.id;
  const client = actingAs(service.client, scoped!.id);
  const file = [HEADER, 'paul;TOOLS;;;;;;;;;', 'sam;TOOLS;;;;;;;;;'].join('\n');
  const { job, log } = await runImport(client, 'course-assignments', file);
  expect(job.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(lines(log)).toEqual(["3;user_loginid;sam;error;user_loginid: you do not hold assignments:write on this user's organisation"]);
  expect(await courseAssignments('sam')).not.toHaveProperty('TOOLS');
  expect(await courseAssignments('paul')).toHaveProperty('TOOLS');
});

test('notify: the template is checked when the job starts and carried by the events', async () => {
  const upload = await admin.imports.createUpload({ kind: 'course-assignments', fileName: 'a.csv' });
  await admin.imports.appendUpload({
    uploadId: upload.uploadId,
    part: 0,
    data: Buffer.from([HEADER, 'paul;FIRST-STEPS;;;;;;;;;'].join('\n')),
  });
  await admin.imports.completeUpload({ uploadId: upload.uploadId, encoding: '' });
  await expect(
    admin.imports.startImport({
      uploadId: upload.uploadId,
      dryRun: false,
      options: { notifyTemplateId: '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b' },
    }),
  ).rejects.toThrow('no mail template with id 3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b');

  const { template } = await actingAs(notification.client, fixture.adminId).templates.createTemplate({
    template: {
      name: 'New course',
      context: TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
      defaultLanguage: 'fr-FR',
      variants: [{ language: 'fr-FR', subject: 'Nouveau cours {{ course.name }}', html: '', text: 'Bonjour {{ user.first_name }}' }],
    },
  });
  await events.next();
  const { job } = await runImport(admin, 'course-assignments', [HEADER, 'paul;FIRST-STEPS;;;;;;;;;'].join('\n'), {
    options: { notifyTemplateId: template!.id },
  });
  expect(job.counts).toMatchObject({ added: 1 });
  const published = await events.next();
  expect(published.map((e) => [e.subject, (e.data as any).notifyTemplateId])).toEqual([['assignment.course.assigned.v1', template!.id]]);
});

const CURRICULA = [
  'user_loginid;curriculum_extid;start_date;end_date;objective_date;assignment_option',
  'sam;ONBOARDING;2025/01/01;2025/12/31;;Mandatory',
  'sam;NOWHERE;;;;',
  'sam;SALES-PATH;;;;',
  'claire;sales-path;;;;',
].join('\n');

test('curriculum assignments bring their courses as U12 does; the same file again is unchanged', async () => {
  await events.next();
  const { job, log } = await runImport(admin, 'curriculum-assignments', CURRICULA, { options: { carryDatesToCourses: 'true' } });
  expect(job.counts).toEqual({ read: 4, added: 2, updated: 0, unchanged: 0, rejected: 2, warnings: 0 });
  expect(lines(log)).toEqual([
    '3;curriculum_extid;NOWHERE;error;"curriculum_extid: no curriculum with code ""NOWHERE"""',
    '4;curriculum_extid;SALES-PATH;error;curriculum_extid: the user shares none of the audiences of curriculum SALES-PATH',
  ]);
  const sam = await courseAssignments('sam');
  for (const code of ['FIRST-STEPS', 'TOOLS']) {
    expect(sam[code]).toMatchObject({
      start_date: '2025-01-01',
      end_date: '2025-12-31',
      option: 'mandatory',
      direct: false,
      via_curricula: [ids.ONBOARDING],
    });
  }
  // Claire had SALES-101 already (an earlier test): it now comes with the curriculum too.
  expect((await courseAssignments('claire'))['SALES-101']).toMatchObject({ via_curricula: [ids['SALES-PATH']] });
  const subjects = (await events.next()).map((e) => e.subject).sort();
  expect(subjects).toEqual([
    'assignment.course.assigned.v1',
    'assignment.course.assigned.v1',
    'assignment.curriculum.assigned.v1',
    'assignment.curriculum.assigned.v1',
  ]);

  const again = await runImport(admin, 'curriculum-assignments', CURRICULA, { options: { carryDatesToCourses: 'true' } });
  expect(again.job.counts).toMatchObject({ added: 0, updated: 0, unchanged: 2, rejected: 2 });
  expect(await events.next()).toEqual([]);

  const changed = await runImport(admin, 'curriculum-assignments', 'user_loginid;curriculum_extid;end_date\nsam;ONBOARDING;2026/01/31\n', {
    options: { updateExisting: 'true', carryDatesToCourses: 'true' },
  });
  expect(changed.job.counts).toMatchObject({ updated: 1 });
  expect((await courseAssignments('sam')).TOOLS).toMatchObject({ start_date: '2025-01-01', end_date: '2026-01-31' });
});

test('a user and course twice in the file: the later row rejected; I4 for a scoped administrator stays within its scope', async () => {
  // (the fifth pair is past the 3 keys kept in memory: found in the job's keys table)
  const pairs = ['paul;TOOLS;;;;;;;;;', 'PAUL;tools;;;;;;;;;', 'sam;TOOLS;;;;;;;;;', 'claire;TOOLS;;;;;;;;;', 'paul;SALES-101;;;;;;;;;'];
  const twice = await runImport(admin, 'course-assignments', [HEADER, ...pairs, 'Paul;Sales-101;;;;;;;;;'].join('\n'), {
    dryRun: true,
  });
  expect(twice.job.counts).toMatchObject({ read: 6 });
  expect(lines(twice.log).filter((l) => l.includes('already on line'))).toEqual([
    '3;crsvname;tools;error;"user_loginid, crsvname ""PAUL"", ""tools"" are already on line 2 of the file"',
    '7;crsvname;Sales-101;error;"user_loginid, crsvname ""Paul"", ""Sales-101"" are already on line 6 of the file"',
  ]);

  const scoped = actingAs(service.client, ids['north-admin']);
  const { job, log } = await runImport(
    scoped,
    'curriculum-assignments',
    'user_loginid;curriculum_extid\npaul;ONBOARDING\nsam;TOOLS-PATH\nsam;ONBOARDING\n',
  );
  expect(job.counts).toMatchObject({ added: 1, rejected: 2 });
  expect(lines(log)).toEqual([
    "3;user_loginid;sam;error;user_loginid: you do not hold assignments:write on this user's organisation",
    "4;user_loginid;sam;error;user_loginid: you do not hold assignments:write on this user's organisation",
  ]);
  expect(await courseAssignments('paul')).toHaveProperty('FIRST-STEPS');
});

test('an importer without assignments:write anywhere: every row rejected, nothing assigned', async () => {
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'importer-only', lastName: 'Importer', firstName: 'Only', organisationId: ids.NORTH },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({ name: 'Importer only', description: '', permissions: ['imports:run'] });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: ids.NORTH });
  const { job, log } = await runImport(actingAs(service.client, user!.id), 'course-assignments', [HEADER, 'paul;OLD;;;;;;;;;'].join('\n'));
  expect(job.counts).toMatchObject({ added: 0, rejected: 1 });
  expect(lines(log)[0]).toMatch(/^2;;;error;.*assignments:write/);
});
