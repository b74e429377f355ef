import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import type { SessionImportRow } from '@assistants/proto/gen/catalog/v1/sessions';
import { actorWithin, code, lesson, ROOT_ORGANISATION_ID, startCatalogBed, subjects, UNKNOWN_ID, type CatalogBed } from './helpers';

/** Instructor-led sessions (I8): ImportSessions chunks and the reads, on the real catalog,
 * identity, NATS and PostgreSQL. */
let bed: CatalogBed;
let course: { id: string; code: string; lessons: { id: string; code: string }[] };
const org: Record<string, string> = {};
const user: Record<string, string> = {};

beforeAll(async () => {
  bed = await startCatalogBed('catalog_sessions');
  const { course: created } = await bed.api.courses.createCourse({
    fields: { code: code('ILT'), name: 'Fire safety in the workshop', courseType: 'instructor_led' },
    audienceIds: [],
    lessons: [lesson('Theory'), lesson('Practice')],
  });
  course = created!;
  for (const [extId, parent] of [
    ['EU', ''],
    ['FR', 'EU'],
    ['US', ''],
  ]) {
    const fields = { extId, label: extId, parentId: parent ? org[parent] : undefined };
    org[extId] = (await bed.fixture.api.organisations.createOrganisation({ fields })).organisation!.id;
  }
  for (const login of ['trainer-ann', 'trainer-bob', 'manager-cy']) {
    const fields = { login, lastName: login, firstName: 'T', organisationId: ROOT_ORGANISATION_ID };
    user[login] = (await bed.fixture.api.users.createUser({ fields, audienceIds: [] })).user!.id;
  }
});
afterAll(async () => {
  await bed?.stop();
});

let keys = 0;
const header = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `import:test:${++keys}`, dryRun });

const row = (itemId: string, fields: Partial<SessionImportRow> = {}): SessionImportRow => ({
  itemId,
  courseCode: course.code,
  lessonSessions: [
    { lessonCode: course.lessons[0].code, start: '2026-03-02T09:00', end: '2026-03-02T12:00' },
    { lessonCode: course.lessons[1].code, start: '2026-03-02T14:00', end: '2026-03-02T17:30' },
  ],
  start: '2026-03-02T09:00',
  externalId: 'FIRE-2026-03',
  status: 'O',
  maxParticipants: 12,
  immediateConfirmation: true,
  waitingList: false,
  trainerLogin: 'trainer-ann',
  additionalTrainerLogins: ['trainer-bob'],
  roomExtId: 'ROOM-B12',
  managerLogin: 'manager-cy',
  organisationExtIds: ['FR', 'US'],
  ...fields,
});

const outcomes = (results: { itemId: string; outcome: Outcome; code: string; targetId: string }[]) =>
  results.map((r) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code, r.targetId]);

test('a new session is added with its lesson sessions and listed with the course; the same rows again are unchanged, no event', async () => {
  const first = await bed.events.act(() => bed.api.sessions.importSessions({ batch: header(), rows: [row('2')] }));
  expect(outcomes(first.result.result!.results)).toEqual([['2', 'SUCCEEDED', 'ADDED', '']]);
  expect(subjects(first.events)).toEqual(['catalog.session.created.v1']);
  const { sessions } = await bed.api.sessions.listCourseSessions({ courseId: course.id });
  expect(sessions).toHaveLength(1);
  expect(sessions[0]).toMatchObject({
    courseId: course.id,
    externalId: 'FIRE-2026-03',
    start: '2026-03-02T09:00',
    status: 'O',
    maxParticipants: 12,
    immediateConfirmation: true,
    waitingList: false,
    mainTrainerId: user['trainer-ann'],
    trainerIds: [user['trainer-bob']],
    roomExtId: 'ROOM-B12',
    managerId: user['manager-cy'],
    organisationIds: [org.FR, org.US].sort(),
    lessonSessions: [
      { lessonId: course.lessons[0].id, lessonCode: course.lessons[0].code, start: '2026-03-02T09:00', end: '2026-03-02T12:00' },
      { lessonId: course.lessons[1].id, lessonCode: course.lessons[1].code, start: '2026-03-02T14:00', end: '2026-03-02T17:30' },
    ],
  });
  expect(first.events[0].data).toMatchObject({ id: sessions[0].id, externalId: 'FIRE-2026-03' });
  expect((await bed.api.sessions.getSession({ id: sessions[0].id })).session).toEqual(sessions[0]);

  const again = await bed.events.act(() =>
    bed.api.sessions.importSessions({ batch: header(), rows: [row('2', { externalId: 'fire-2026-03' })] }),
  );
  expect(outcomes(again.result.result!.results)).toEqual([['2', 'UNCHANGED', 'UNCHANGED', '']]);
  expect(again.events).toEqual([]);

  const changed = await bed.events.act(() =>
    bed.api.sessions.importSessions({ batch: header(), rows: [row('2', { status: 'C', lessonSessions: [], maxParticipants: 10 })] }),
  );
  expect(outcomes(changed.result.result!.results)).toEqual([['2', 'SUCCEEDED', 'UPDATED', '']]);
  expect(subjects(changed.events)).toEqual(['catalog.session.updated.v1']);
  const [after] = (await bed.api.sessions.listCourseSessions({ courseId: course.id })).sessions;
  expect(after).toMatchObject({ id: sessions[0].id, status: 'C', maxParticipants: 10, lessonSessions: [] });
});

test('each refusal names its column; unknown additional trainer and manager are warnings; a dry run writes nothing', async () => {
  const rows = [
    row('2', { courseCode: 'NO-SUCH', externalId: 'S-1' }),
    row('3', { externalId: 'S-2', lessonSessions: [{ lessonCode: 'NOPE', start: '2026-04-01T09:00', end: '2026-04-01T10:00' }] }),
    row('4', {
      externalId: 'S-3',
      lessonSessions: [{ lessonCode: course.lessons[0].code, start: '2026-04-01T09:00', end: '2026-04-01T08:00' }],
    }),
    row('5', { externalId: 'S-4', trainerLogin: 'nobody' }),
    row('6', { externalId: 'S-5', organisationExtIds: ['FR', 'MARS'] }),
    row('7', { externalId: 'S-6', additionalTrainerLogins: ['ghost'], managerLogin: 'phantom' }),
    row('8', { externalId: 's-6' }),
  ];
  const dry = await bed.events.act(() => bed.api.sessions.importSessions({ batch: header(true), rows }));
  expect(dry.events).toEqual([]);
  const real = await bed.events.act(() => bed.api.sessions.importSessions({ batch: header(), rows }));
  expect(real.result.result!.results).toEqual(dry.result.result!.results);
  expect(real.result.result!.results.map((r) => [r.itemId, r.code, r.targetId, r.message])).toEqual([
    ['2', 'NOT_FOUND', 'crsvname', 'crsvname: no course with code "NO-SUCH"'],
    ['3', 'NOT_FOUND', 'lesson_sessions', `lesson_sessions: lesson session 1: course ${course.code} has no lesson "NOPE"`],
    ['4', 'INVALID_DATES', 'lesson_sessions', 'lesson_sessions: lesson session 1: its end is not after its start'],
    ['5', 'NOT_FOUND', 'trainer_login', 'trainer_login: no user with login "nobody"'],
    ['6', 'OUT_OF_SCOPE', 'org_extids', 'org_extids: no organisation with external id "MARS" in your scope'],
    ['7', 'ADDED', '', ''],
    ['7', 'WARNING', 'additional_trainers', 'additional_trainers: no user with login "ghost": left out'],
    ['7', 'WARNING', 'manager_login', 'manager_login: no user with login "phantom": no manager set'],
    ['8', 'DUPLICATE', 'session_extid', 'session_extid: this session is already on line 7'],
  ]);
  expect(subjects(real.events)).toEqual(['catalog.session.created.v1']);
  const listed = (await bed.api.sessions.listCourseSessions({ courseId: course.id })).sessions.map((s) => s.externalId);
  expect(listed).toEqual(['FIRE-2026-03', 'S-6']);
  // A repeated key answers what it recorded and applies nothing again.
  const replay = await bed.api.sessions.importSessions({ batch: { idempotencyKey: `import:test:${keys}`, dryRun: false }, rows });
  expect(replay.result!.replayed).toBe(true);
});

test('a scoped importer: course edits need catalog:write on the root; organisations outside its scope are refused', async () => {
  const viewer = await actorWithin(bed.fixture, [org.FR], ['catalog:read', 'organisations:read']);
  const refused = await bed.events.refused(() => bed.as(viewer.id).sessions.importSessions({ batch: header(), rows: [row('2')] }));
  expect(refused.code).toBe('PERMISSION_DENIED');

  // catalog:write on the root, but organisations seen only in FR.
  const editor = await actorWithin(bed.fixture, [ROOT_ORGANISATION_ID], ['catalog:write', 'catalog:read']);
  const { role } = await bed.fixture.api.roles.createRole({
    name: 'FR organisations',
    description: '',
    permissions: ['organisations:read'],
  });
  await bed.fixture.api.roles.grantRoles({ userIds: [editor.id], roleIds: [role!.id], organisationId: org.FR });
  const { result, events } = await bed.events.act(() =>
    bed.as(editor.id).sessions.importSessions({
      batch: header(),
      rows: [
        row('2', { externalId: 'SCOPED-1', organisationExtIds: ['FR', 'US'] }),
        row('3', { externalId: 'SCOPED-2', organisationExtIds: ['FR'] }),
      ],
    }),
  );
  expect(result.result!.results.map((r) => [r.itemId, r.code, r.message])).toEqual([
    ['2', 'OUT_OF_SCOPE', 'org_extids: no organisation with external id "US" in your scope'],
    ['3', 'ADDED', ''],
  ]);
  expect(subjects(events)).toEqual(['catalog.session.created.v1']);
});

test('reads: an unknown course or session is NOT_FOUND; reading needs catalog:read', async () => {
  expect((await bed.events.refused(() => bed.api.sessions.listCourseSessions({ courseId: UNKNOWN_ID }))).code).toBe('NOT_FOUND');
  expect((await bed.events.refused(() => bed.api.sessions.getSession({ id: UNKNOWN_ID }))).code).toBe('NOT_FOUND');
  const nobody = await actorWithin(bed.fixture, [org.FR], ['users:read']);
  expect((await bed.events.refused(() => bed.as(nobody.id).sessions.listCourseSessions({ courseId: course.id }))).code).toBe(
    'PERMISSION_DENIED',
  );
  const found = await bed.catalog.client.sessions.findSessions({
    refs: [
      { courseId: course.id, externalId: 'fire-2026-03' },
      { courseId: course.id, externalId: 'NONE' },
    ],
  });
  expect(found.found).toEqual([{ courseId: course.id, externalId: 'FIRE-2026-03' }]);
});
