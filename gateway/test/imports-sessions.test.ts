import { Assistants, subjects } from './assistants-support';

/**
 * I8 instructor-led sessions through the gateway, on the whole stack: the sample file and
 * preview of the kind, the import (added, updated, unchanged on a second run with no event),
 * its dry run, log and rejects, the sessions listed with the course (GET
 * /v1/courses/:id/sessions), and scoped administrators.
 */
const t = Assistants.forFile();

const HEADER =
  'crsvname;lesson_sessions;session_start;session_extid;session_status;max_participants;immediate_confirmation;waiting_list;trainer_login;additional_trainers;room_extid;manager_login;org_extids';
const i8 = (...rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';

async function upload(csv: string, auth = t.stack.adminAuth) {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(csv)]), 'sessions.csv');
  const response = await fetch(`${t.stack.url}/v1/imports/kinds/sessions/uploads`, {
    method: 'POST',
    headers: { authorization: auth },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function importFile(csv: string, options: { dryRun?: boolean; auth?: string } = {}) {
  const auth = options.auth ?? t.stack.adminAuth;
  const uploaded = await upload(csv, auth);
  if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${JSON.stringify(uploaded.body)}`);
  const job = await t.post('/v1/imports', { uploadId: uploaded.body.uploadId, dryRun: options.dryRun ?? false }, auth);
  let done: any;
  for (const deadline = Date.now() + 20_000; ;) {
    done = await t.get(`/v1/imports/${job.id}`, auth);
    if (done.status === 'completed' || done.status === 'failed') break;
    if (Date.now() > deadline) throw new Error(`import still running: ${JSON.stringify(done)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const lines = async (file: string) =>
    (await (await fetch(`${t.stack.url}/v1/imports/${job.id}/${file}`, { headers: { authorization: auth } })).text())
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l !== '');
  return { job: done, counts: done.counts, log: await lines('log.csv'), rejects: await lines('rejects.csv') };
}

let course: { id: string; code: string; lessons: { id: string; code: string }[] };
let trainer: { id: string; login: string };
let org: { extId: string; id: string };

beforeAll(async () => {
  const code = t.unique('ILT');
  course = await t.post('/v1/courses', {
    code,
    name: 'Forklift driving',
    courseType: 'instructor_led',
    lessons: [
      { code: `${code}-THEORY`, name: 'Theory', type: 'T' },
      { code: `${code}-DRIVE`, name: 'Driving', type: 'T' },
    ],
  });
  trainer = await t.newUser();
  const extId = t.unique('SITE');
  org = { extId, id: (await t.post('/v1/organisations', { extId, label: 'Site', parentId: t.home })).id };
});

const sessionsOf = async (courseId: string, auth?: string) => (await t.get(`/v1/courses/${courseId}/sessions`, auth)).items;

test('the sample file and the preview come from the declaration of the kind', async () => {
  const response = await fetch(`${t.stack.url}/v1/imports/kinds/sessions/sample.csv`, { headers: { authorization: t.stack.adminAuth } });
  expect(response.status).toBe(200);
  const [header, example] = (await response.text()).replace(/^\uFEFF/, '').split('\r\n');
  expect(header).toBe(HEADER);
  expect(example.split(';')).toHaveLength(13);
  const up = await upload(i8(`${course.code};;2026/09/01 09:00;S-PREVIEW;O;10;Y;N;${trainer.login};;;;`));
  expect(up.status).toBe(201);
  expect(up.body.preview.columns.slice(2, 4)).toEqual([
    { column: 'session_start', field: 'start', value: '2026/09/01 09:00', format: 'date and time YYYY/MM/DD HH:mm' },
    { column: 'session_extid', field: 'externalId', value: 'S-PREVIEW', format: 'text, at most 100 characters' },
  ]);
});

test('sessions are added, listed with the course, unchanged on a second run (no event), updated when a row changes', async () => {
  const file = i8(
    `${course.code};${course.code}-THEORY|2026/10/05 09:00|2026/10/05 12:00$${course.code}-DRIVE|2026/10/05 13:30|2026/10/05 17:00;2026/10/05 09:00;FORK-10;O;8;Y;Y;${trainer.login};;HALL-2;;${org.extId}`,
    `${course.code};;2026/11/02 09:00;FORK-11;N;8;;;${trainer.login};;;;`,
  );
  const before = (await t.events('CATALOG')).length;
  const first = await importFile(file);
  expect(first.counts).toEqual({ read: 2, added: 2, updated: 0, unchanged: 0, rejected: 0, warnings: 0 });
  const listed = await sessionsOf(course.id);
  expect(listed.map((s: any) => [s.externalId, s.start, s.status, s.maxParticipants, s.waitingList, s.roomExtId])).toEqual([
    ['FORK-10', '2026-10-05T09:00', 'O', 8, true, 'HALL-2'],
    ['FORK-11', '2026-11-02T09:00', 'N', 8, false, ''],
  ]);
  expect(listed[0]).toMatchObject({
    courseId: course.id,
    mainTrainerId: trainer.id,
    organisationIds: [org.id],
    lessonSessions: [
      { lessonId: course.lessons[0].id, lessonCode: course.lessons[0].code, start: '2026-10-05T09:00', end: '2026-10-05T12:00' },
      { lessonId: course.lessons[1].id, lessonCode: course.lessons[1].code, start: '2026-10-05T13:30', end: '2026-10-05T17:00' },
    ],
  });
  const created = (await t.events('CATALOG')).slice(before);
  expect(subjects(created)).toEqual(['catalog.session.created.v1', 'catalog.session.created.v1']);

  const again = await importFile(file);
  expect(again.counts).toEqual({ read: 2, added: 0, updated: 0, unchanged: 2, rejected: 0, warnings: 0 });
  expect((await t.events('CATALOG')).length).toBe(before + 2);
  expect(await sessionsOf(course.id)).toEqual(listed);

  const changed = await importFile(i8(`${course.code};;2026/11/02 09:00;FORK-11;X;8;;;${trainer.login};;;;`));
  expect(changed.counts).toMatchObject({ updated: 1, unchanged: 0 });
  expect((await sessionsOf(course.id))[1]).toMatchObject({ externalId: 'FORK-11', status: 'X' });
  expect(subjects((await t.events('CATALOG')).slice(before + 2))).toEqual(['catalog.session.updated.v1']);
});

test('a dry run writes nothing; the rows at fault are in the log and the rejects file', async () => {
  const rows = [
    `${course.code};;2026/12/01 09:00;FORK-12;O;6;;;${trainer.login};;;nobody-at-all;`,
    `NO-SUCH;;2026/12/01 09:00;X-1;O;6;;;${trainer.login};;;;`,
    `${course.code};${course.code}-DRIVE|2026/12/01 10:00|2026/12/01 09:00;2026/12/01 09:00;FORK-13;O;6;;;${trainer.login};;;;`,
    `${course.code};;2026/12/01 09:00;FORK-14;O;0;;;${trainer.login};;;;`,
  ];
  const dry = await importFile(i8(...rows), { dryRun: true });
  expect(dry.counts).toEqual({ read: 4, added: 1, updated: 0, unchanged: 0, rejected: 3, warnings: 1 });
  expect((await sessionsOf(course.id)).map((s: any) => s.externalId)).not.toContain('FORK-12');
  const real = await importFile(i8(...rows));
  expect([real.counts, real.log, real.rejects]).toEqual([dry.counts, dry.log, dry.rejects]);
  expect(real.log).toEqual([
    '2;manager_login;nobody-at-all;warning;"manager_login: no user with login ""nobody-at-all"": no manager set"',
    '3;crsvname;NO-SUCH;error;"crsvname: no course with code ""NO-SUCH"""',
    `4;lesson_sessions;${course.code}-DRIVE|2026/12/01 10:00|2026/12/01 09:00;error;lesson_sessions: lesson session 1: its end is not after its start`,
    '5;max_participants;0;error;max_participants: must be at least 1',
  ]);
  expect(real.rejects.map((r) => r.split(';').slice(0, 13).join(';'))).toEqual(rows.slice(1));
  expect((await sessionsOf(course.id)).map((s: any) => s.externalId)).toContain('FORK-12');
});

test('scoped administrators: reading needs catalog:read, an unknown course is 404; importing needs catalog:write on the root and organisations in scope', async () => {
  const site = await t.post('/v1/organisations', { extId: t.unique('OTHER'), label: 'Other site' });
  const reader = await t.scopedAdministrator(org.id, ['catalog:read', 'organisations:read', 'imports:run']);
  expect((await sessionsOf(course.id, reader.auth)).length).toBeGreaterThan(0);
  expect((await t.request('GET', '/v1/courses/3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b/sessions', undefined, reader.auth)).status).toBe(404);
  const userManager = await t.scopedAdministrator(org.id, ['users:read']);
  const refused = await t.request('GET', `/v1/courses/${course.id}/sessions`, undefined, userManager.auth);
  expect([refused.status, refused.body.error]).toEqual([403, 'permission_denied']);

  // A reader of the catalog cannot create sessions: every row rejected, nothing written.
  const row = (id: string, orgs: string) => `${course.code};;2027/01/04 09:00;${id};O;6;;;${trainer.login};;;;${orgs}`;
  const denied = await importFile(i8(row('SCOPED-1', org.extId)), { auth: reader.auth });
  expect(denied.counts).toMatchObject({ added: 0, rejected: 1 });
  expect(denied.log[0]).toMatch(/^2;;;error;.*catalog:write/);

  // catalog:write on the root, organisations seen in its own sub-tree only.
  const root = (await t.get('/v1/organisations')).items[0].id;
  const editor = await t.post('/v1/roles', { name: t.unique('Catalog editor'), permissions: ['catalog:write'] });
  await t.post(`/v1/users/${reader.id}/roles`, { roleIds: [editor.id], organisationId: root });
  const before = (await t.events('CATALOG')).length;
  const scoped = await importFile(i8(row('SCOPED-1', org.extId), row('SCOPED-2', `${org.extId}|${site.extId}`)), { auth: reader.auth });
  expect(scoped.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(scoped.log).toEqual([
    `3;org_extids;${org.extId}|${site.extId};error;"org_extids: no organisation with external id ""${site.extId}"" in your scope"`,
  ]);
  const ids = (await sessionsOf(course.id)).map((s: any) => s.externalId);
  expect(ids).toContain('SCOPED-1');
  expect(ids).not.toContain('SCOPED-2');
  expect(subjects((await t.events('CATALOG')).slice(before))).toEqual(['catalog.session.created.v1']);
});
