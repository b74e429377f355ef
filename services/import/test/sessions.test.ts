import { LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import {
  actingAs,
  EventLog,
  startCatalog,
  startIdentityFixture,
  startImport,
  type IdentityFixture,
  type ImportClient,
  type TestCatalog,
  type TestImport,
} from '@assistants/testing';
import { runImport } from './helpers';

/** I8 instructor-led sessions through the import service and the catalog service (with
 * identity). */

let fixture: IdentityFixture;
let catalog: TestCatalog;
let service: TestImport;
let admin: ImportClient;
let events: EventLog;
const ids: Record<string, string> = {};

const lines = (b: Buffer) => b.toString().split('\r\n').slice(1, -1);

/** The sessions of a course as rows of the catalog's tables. */
async function sessions(courseCode: string) {
  const { rows } = await catalog.db.query<Record<string, any>>(
    `SELECT s.external_id, to_char(s.starts_at, 'YYYY-MM-DD HH24:MI') AS start, s.status, s.max_participants,
            s.immediate_confirmation, s.waiting_list, s.main_trainer_id, s.trainer_ids, s.room_ext_id, s.manager_id,
            s.organisation_ids,
            (SELECT array_agg(l.code || ' ' || to_char(ls.starts_at, 'HH24:MI') || '-' || to_char(ls.ends_at, 'HH24:MI') ORDER BY ls.position)
               FROM lesson_sessions ls JOIN lessons l ON l.id = ls.lesson_id WHERE ls.session_id = s.id) AS lessons
       FROM sessions s JOIN courses c ON c.id = s.course_id WHERE c.code = $1 ORDER BY s.external_id`,
    [courseCode],
  );
  return rows;
}

beforeAll(async () => {
  fixture = await startIdentityFixture('import_sessions');
  const common = { nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address };
  catalog = await startCatalog(common);
  service = await startImport({ ...common, catalogAddress: catalog.address });
  admin = actingAs(service.client, fixture.adminId);
  events = new EventLog(catalog, 'CATALOG');

  for (const extId of ['NORTH', 'SOUTH']) {
    ids[extId] = (await fixture.api.organisations.createOrganisation({ fields: { extId, label: extId } })).organisation!.id;
  }
  for (const login of ['ann', 'bob', 'cy']) {
    const { user } = await fixture.api.users.createUser({
      fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: ids.NORTH },
      audienceIds: [],
    });
    ids[login] = user!.id;
  }
  await actingAs(catalog.client, fixture.adminId).courses.createCourse({
    fields: { code: 'FIRE', name: 'Fire safety', courseType: 'instructor_led' },
    audienceIds: [],
    lessons: [
      { code: 'FIRE-L1', name: 'Theory', type: LessonType.LESSON_TYPE_T },
      { code: 'FIRE-L2', name: 'Practice', type: LessonType.LESSON_TYPE_T },
    ],
  });
});
afterAll(async () => {
  await service?.stop();
  await catalog?.stop();
  await fixture?.stop();
});

const HEADER =
  'crsvname;lesson_sessions;session_start;session_extid;session_status;max_participants;immediate_confirmation;waiting_list;trainer_login;additional_trainers;room_extid;manager_login;org_extids';
const FILE = [
  HEADER,
  'FIRE;FIRE-L1|2026/03/02 09:00|2026/03/02 12:00$FIRE-L2|2026/03/02 14:00|2026/03/02 17:00;2026/03/02 09:00;FIRE-03;O;12;Y;N;ann;bob, ghost;ROOM-3;cy;NORTH|SOUTH',
  'fire;;2026/04/06 09:00;FIRE-04;;8;;;ann;;;;',
  'NOPE;;2026/04/06 09:00;X-1;;8;;;ann;;;;',
  'FIRE;FIRE-L9|2026/04/06 09:00|2026/04/06 10:00;2026/04/06 09:00;FIRE-05;;8;;;ann;;;;',
  'FIRE;FIRE-L1|2026/04/06 09:00|2026/04/06 08:00;2026/04/06 09:00;FIRE-06;;8;;;ann;;;;',
  'FIRE;FIRE-L1|2026/04/06;2026/04/06 09:00;FIRE-07;;8;;;ann;;;;',
  'FIRE;;2026/04/06 09:00;FIRE-08;;8;;;nobody;;;phantom;',
  'FIRE;;2026/04/06 09:00;FIRE-09;Z;8;;;ann;;;;MARS',
  'FIRE;;2026/04/06 09:00;FIRE-10;;8;;;ann;;;;MARS',
].join('\r\n');

test('adds sessions with their lesson sessions; each refusal names its column; warnings for unknown additional trainer and manager', async () => {
  await events.next();
  const { job, log, rejects } = await runImport(admin, 'sessions', FILE);
  expect(job.counts).toEqual({ read: 9, added: 2, updated: 0, unchanged: 0, rejected: 7, warnings: 1 });
  expect(lines(log)).toEqual([
    '2;additional_trainers;bob, ghost;warning;"additional_trainers: no user with login ""ghost"": left out"',
    '4;crsvname;NOPE;error;"crsvname: no course with code ""NOPE"""',
    '5;lesson_sessions;FIRE-L9|2026/04/06 09:00|2026/04/06 10:00;error;"lesson_sessions: lesson session 1: course FIRE has no lesson ""FIRE-L9"""',
    '6;lesson_sessions;FIRE-L1|2026/04/06 09:00|2026/04/06 08:00;error;lesson_sessions: lesson session 1: its end is not after its start',
    '7;lesson_sessions;FIRE-L1|2026/04/06;error;lesson_sessions: lesson session 1 must be lessonId|start|end',
    '8;trainer_login;nobody;error;"trainer_login: no user with login ""nobody"""',
    '9;session_status;Z;error;session_status must be one of N, O, C, D, X',
    '10;org_extids;MARS;error;"org_extids: no organisation with external id ""MARS"" in your scope"',
  ]);
  expect(lines(rejects)[0]).toBe('NOPE;;2026/04/06 09:00;X-1;;8;;;ann;;;;;"crsvname: no course with code ""NOPE"""');
  expect(await sessions('FIRE')).toEqual([
    {
      external_id: 'FIRE-03',
      start: '2026-03-02 09:00',
      status: 'O',
      max_participants: 12,
      immediate_confirmation: true,
      waiting_list: false,
      main_trainer_id: ids.ann,
      trainer_ids: [ids.bob],
      room_ext_id: 'ROOM-3',
      manager_id: ids.cy,
      organisation_ids: [ids.NORTH, ids.SOUTH].sort(),
      lessons: ['FIRE-L1 09:00-12:00', 'FIRE-L2 14:00-17:00'],
    },
    expect.objectContaining({
      external_id: 'FIRE-04',
      status: 'N',
      trainer_ids: [],
      manager_id: null,
      organisation_ids: [],
      lessons: null,
    }),
  ]);
  const published = await events.next();
  expect(published.map((e) => [e.subject, (e.data as any).externalId])).toEqual([
    ['catalog.session.created.v1', 'FIRE-03'],
    ['catalog.session.created.v1', 'FIRE-04'],
  ]);
});

test('the same file again: unchanged, nothing written, no event; a changed row updates its session', async () => {
  await events.next();
  const before = await sessions('FIRE');
  const { job } = await runImport(admin, 'sessions', FILE);
  expect(job.counts).toEqual({ read: 9, added: 0, updated: 0, unchanged: 2, rejected: 7, warnings: 1 });
  expect(await events.next()).toEqual([]);
  expect(await sessions('FIRE')).toEqual(before);

  const changed = await runImport(admin, 'sessions', [HEADER, 'FIRE;;2026/04/06 10:00;fire-04;X;8;;;ann;;;;'].join('\n'));
  expect(changed.job.counts).toMatchObject({ updated: 1, rejected: 0 });
  expect((await sessions('FIRE'))[1]).toMatchObject({ external_id: 'FIRE-04', start: '2026-04-06 10:00', status: 'X' });
  expect((await events.next()).map((e) => e.subject)).toEqual(['catalog.session.updated.v1']);
});

test('a dry run gives the counts, log and rejects of the real run and writes nothing', async () => {
  const file = [HEADER, 'FIRE;;2026/05/04 09:00;FIRE-DRY;O;5;;;ann;;;;', 'FIRE;;2026/05/04 09:00;FIRE-DRY-2;O;5;;;nobody;;;;'].join('\n');
  await events.next();
  const dry = await runImport(admin, 'sessions', file, { dryRun: true });
  expect(dry.job.counts).toEqual({ read: 2, added: 1, updated: 0, unchanged: 0, rejected: 1, warnings: 0 });
  expect((await sessions('FIRE')).map((s) => s.external_id)).not.toContain('FIRE-DRY');
  expect(await events.next()).toEqual([]);
  const real = await runImport(admin, 'sessions', file);
  expect([real.job.counts, lines(real.log), lines(real.rejects)]).toEqual([dry.job.counts, lines(dry.log), lines(dry.rejects)]);
  expect((await sessions('FIRE')).map((s) => s.external_id)).toContain('FIRE-DRY');
});

test('a scoped importer: without catalog:write on the root every row is rejected; organisations outside its scope are refused', async () => {
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'north-admin', lastName: 'North', firstName: 'Admin', organisationId: ids.NORTH },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'North administrator',
    description: '',
    permissions: ['imports:run', 'catalog:read', 'organisations:read', 'users:read'],
  });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: ids.NORTH });
  const north = actingAs(service.client, user!.id);
  const file = [HEADER, 'FIRE;;2026/06/01 09:00;NORTH-1;O;5;;;ann;;;;NORTH'].join('\n');
  const denied = await runImport(north, 'sessions', file);
  expect(denied.job.counts).toMatchObject({ added: 0, rejected: 1 });
  expect(lines(denied.log)[0]).toMatch(/^2;;;error;.*catalog:write/);

  // With catalog:write on the root, but organisations seen in NORTH only.
  const { role: editor } = await fixture.api.roles.createRole({ name: 'Catalog editor', description: '', permissions: ['catalog:write'] });
  const root = (await fixture.api.organisations.getOrganisation({ id: '', extId: 'ROOT' })).organisation!.id;
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [editor!.id], organisationId: root });
  const { job, log } = await runImport(north, 'sessions', [file, 'FIRE;;2026/06/01 09:00;SOUTH-1;O;5;;;ann;;;;SOUTH|NORTH'].join('\n'));
  expect(job.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(lines(log)).toEqual(['3;org_extids;SOUTH|NORTH;error;"org_extids: no organisation with external id ""SOUTH"" in your scope"']);
  expect((await sessions('FIRE')).map((s) => s.external_id)).toEqual(expect.arrayContaining(['NORTH-1']));
  expect((await sessions('FIRE')).map((s) => s.external_id)).not.toContain('SOUTH-1');
});
