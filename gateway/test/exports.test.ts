import { parse } from 'csv-parse/sync';
import { ROOT_ORGANISATION_ID } from '@assistants/kit';
import { Assistants } from './assistants-support';

/**
 * X1, the CSV export, over HTTP on the whole stack (real NATS and PostgreSQL): a known data
 * set (organisations, an audience, folders, a category, courses with lessons, a curriculum,
 * assignments and progress made through the API), exported with columns and filters and
 * parsed back with csv-parse; a scoped administrator's export holds only its scope and it
 * cannot download another's; formula cells are defused; the BOM and the separator; a job
 * left running by a process that died is started over; bad input is a 400 naming the field.
 */
const t = Assistants.forFile({}, { statisticsEnv: { STATISTICS_EXPORT_LEASE_SECONDS: '1', STATISTICS_EXPORT_POLL_MS: '100' } });

let d: {
  a: string;
  a1: string;
  b: string;
  audience: string;
  folder: string;
  subfolder: string;
  pathFolder: string;
  category: string;
  c1: { id: string; code: string; lessons: string[] };
  c2: { id: string; code: string; lessons: string[] };
  ext: { id: string; code: string; lessons: string[] };
  path: { id: string; code: string };
  manager: string;
  u1: string;
  u2: string;
  u3: string;
};

async function course(code: string, fields: Record<string, unknown>) {
  const c = await t.post('/v1/courses', {
    code,
    name: `Course ${code}`,
    lessons: [
      { code: `${code}-L1`, name: `${code} lesson 1`, type: 'L' },
      { code: `${code}-L2`, name: `${code} lesson 2`, type: 'A' },
    ],
    ...fields,
  });
  return { id: c.id as string, code, lessons: c.lessons.map((l: { id: string }) => l.id) as string[] };
}

/** Starts an export, waits until it is done, and downloads its file. */
async function exportCsv(body: Record<string, unknown>, auth?: string) {
  const started = await t.request('POST', '/v1/exports', body, auth);
  if (started.status !== 202) throw new Error(`export refused: ${started.status} ${JSON.stringify(started.body)}`);
  expect(started.headers.get('location')).toBe(`/v1/exports/${started.body.id}`);
  const job = await t.eventually(async () => {
    const j = await t.get(`/v1/exports/${started.body.id}`, auth);
    return j.status === 'done' || j.status === 'failed' ? j : undefined;
  }, 'the export done');
  expect(job.status).toBe('done');
  const file = await t.request('GET', job.file, undefined, auth);
  expect(file.status).toBe(200);
  expect(file.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  return { job, raw: file.raw, text: file.raw.toString('utf8') };
}

/** The rows of an export as objects by header (csv-parse), in the file's order. */
async function rows(body: Record<string, unknown>, auth?: string): Promise<Record<string, string>[]> {
  const { text, job } = await exportCsv({ separator: ';', ...body }, auth);
  const records = parse(text, { delimiter: ';', columns: true, bom: true }) as Record<string, string>[];
  expect(job.rowsWritten).toBe(records.length);
  return records;
}

beforeAll(async () => {
  const a = await t.newOrganisation('A', t.home);
  const a1 = await t.newOrganisation('A1', a);
  const b = await t.newOrganisation('B', t.home);
  const audience = await t.newAudience('export-audience');
  const folder = (await t.post('/v1/catalog/folders', { kind: 'course', name: 'Safety' })).id;
  const subfolder = (await t.post('/v1/catalog/folders', { kind: 'course', name: 'Fire', parentId: folder })).id;
  const pathFolder = (await t.post('/v1/catalog/folders', { kind: 'curriculum', name: 'Onboarding' })).id;
  const category = (await t.post('/v1/catalog/categories', { name: 'Mandatory' })).id;
  const c1 = await course('X-C1', { folderId: folder, categoryId: category, custom1: 'c1 custom' });
  const c2 = await course('X-C2', { folderId: subfolder });
  const ext = await course('X-EXT', { folderId: folder, externalTraining: true });
  const path = await t.newCurriculum([c1.id, c2.id], { code: 'X-P', name: 'Onboarding path', folderId: pathFolder });
  const manager = (await t.newUser({ login: 'x-manager', lastName: 'Manager', extId: 'MGR-1', organisationId: b })).id;
  const u1 = (
    await t.newUser({
      login: 'x-u1',
      lastName: 'Alpha',
      firstName: 'Ann',
      extId: 'U1',
      email: 'ann@example.com',
      organisationId: a,
      managerId: manager,
      city: 'Lyon',
      custom1: '=HYPERLINK("http://evil")',
      audienceIds: [audience],
    })
  ).id;
  const u2 = (await t.newUser({ login: 'x-u2', lastName: '+Bravo', firstName: '@Bob', extId: '-2', organisationId: a1 })).id;
  const u3 = (await t.newUser({ login: 'x-u3', lastName: 'Charlie', firstName: 'Cy', organisationId: b })).id;
  d = { a, a1, b, audience, folder, subfolder, pathFolder, category, c1, c2, ext, path, manager, u1, u2, u3 };

  await t.users('U7', [u1], { courseIds: [c1.id, c2.id, ext.id], option: 'mandatory', startDate: '2027-01-04', endDate: '2027-02-26' });
  await t.users('U7', [u2, u3], { courseIds: [c1.id, c2.id], startDate: '2027-03-01', endDate: '2027-06-30' });
  await t.users('U12', [u1], { curriculumIds: [path.id] });
  // Everything known to the statistics service before progress is set.
  await t.eventually(async () => {
    const { rows: n } = await t.stack.statistics.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM course_assignments WHERE user_id = ANY($1::uuid[]))::int +
              (SELECT count(*) FROM curriculum_assignments WHERE user_id = $2)::int +
              (SELECT count(*) FROM users WHERE id = ANY($1::uuid[]))::int +
              (SELECT count(*) FROM curricula WHERE id = $3)::int AS n`,
      [[u1, u2, u3], u1, path.id],
    );
    return n[0].n === 7 + 1 + 3 + 1 ? true : undefined;
  }, 'the projections');
  const s1 = (user: string, c: typeof c1, lesson: number, status: string, extra: object = {}) =>
    t.users('S1', [user], { courseId: c.id, lessonId: c.lessons[lesson], status, ...extra });
  await s1(u1, c1, 0, 'completed', { statusDate: '2026-10-01', timeSpentSeconds: 600 });
  await s1(u1, c1, 1, 'passed', { score: 87, statusDate: '2026-10-02' });
  await s1(u2, c1, 0, 'browsed', { statusDate: '2026-10-03' });
}, 180_000);

const key = (r: Record<string, string>, ...columns: string[]) => columns.map((c) => r[c]).join(' | ');

/** The rows are grouped by user in id order (not by name), a user's courses in id order:
 * compared without their order, each user's rows checked to come together, and in the
 * expected order within a user when `inOrder` (the lessons of a course). */
function expectRows(actual: string[], expected: string[], inOrder = false) {
  expect([...actual].sort()).toEqual([...expected].sort());
  const users = [...new Set(actual.map((a) => a.split(' | ')[0]))];
  expect(users.flatMap((u) => actual.filter((a) => a.split(' | ')[0] === u))).toEqual(actual);
  for (const u of inOrder ? users : []) {
    expect(actual.filter((a) => a.split(' | ')[0] === u)).toEqual(expected.filter((e) => e.split(' | ')[0] === u));
  }
}

it('exports the user and course columns asked, one row per assigned course, external trainings only when asked', async () => {
  const columns = [
    'user.login',
    'user.lastName',
    'user.extId',
    'user.email',
    'user.organisation',
    'user.organisationExtId',
    'user.audiences',
    'user.managerExtId',
    'user.city',
    'course.code',
    'course.category',
    'course.folder',
    'course.status',
    'course.statusDate',
    'course.startDate',
    'course.endDate',
    'course.option',
    'course.custom1',
  ];
  const got = await rows({ columns, filters: { organisationId: t.home } });
  expect(Object.keys(got[0])).toEqual([
    'login',
    'last name',
    'user external id',
    'email',
    'organisation',
    'organisation external id',
    'audiences',
    'manager external id',
    'city',
    'course unique id',
    'course category',
    'course folder',
    'course status',
    'course status date',
    'course start date',
    'course end date',
    'course option',
    'course custom 1',
  ]);
  expectRows(
    got.map((r) => key(r, 'login', 'course unique id', 'course status')),
    [
      'x-u2 | X-C1 | browsed',
      'x-u2 | X-C2 | not_started',
      'x-u1 | X-C1 | completed',
      'x-u1 | X-C2 | not_started',
      'x-u3 | X-C1 | not_started',
      'x-u3 | X-C2 | not_started',
    ],
  );
  const u1c1 = got.find((r) => r.login === 'x-u1' && r['course unique id'] === 'X-C1')!;
  expect(u1c1).toMatchObject({
    'last name': 'Alpha',
    'user external id': 'U1',
    email: 'ann@example.com',
    organisation: 'A',
    audiences: 'export-audience',
    'manager external id': 'MGR-1',
    city: 'Lyon',
    'course category': 'Mandatory',
    'course folder': 'Safety',
    'course status date': '2026-10-02T00:00:00Z',
    'course start date': '2027-01-04',
    'course end date': '2027-02-26',
    'course option': 'mandatory',
    'course custom 1': 'c1 custom',
  });

  const withExternal = await rows({
    columns: ['user.login', 'course.code'],
    filters: { organisationId: t.home, includeExternalTrainings: true },
  });
  expect(withExternal.filter((r) => r['course unique id'] === 'X-EXT').map((r) => r.login)).toEqual(['x-u1']);
});

it('exports lessons with their status, date, score and time spent, filtered on the lesson status', async () => {
  const got = await rows({
    columns: [
      'user.login',
      'course.code',
      'lesson.code',
      'lesson.name',
      'lesson.status',
      'lesson.statusDate',
      'lesson.score',
      'lesson.timeSpent',
    ],
    filters: { courseId: d.c1.id },
  });
  expectRows(
    got.map((r) => key(r, 'login', 'lesson unique id', 'lesson status', 'lesson score', 'lesson time spent (s)')),
    [
      'x-u2 | X-C1-L1 | browsed |  | 0',
      'x-u2 | X-C1-L2 | not_started |  | 0',
      'x-u1 | X-C1-L1 | completed |  | 600',
      'x-u1 | X-C1-L2 | passed | 87 | 0',
      'x-u3 | X-C1-L1 | not_started |  | 0',
      'x-u3 | X-C1-L2 | not_started |  | 0',
    ],
    true,
  );
  // Lesson columns without course columns: the status filter applies to the lesson.
  const done = await rows({ columns: ['user.login', 'lesson.code'], filters: { courseId: d.c1.id, status: 'completed' } });
  expectRows(
    done.map((r) => key(r, 'login', 'lesson unique id')),
    ['x-u1 | X-C1-L1', 'x-u1 | X-C1-L2'],
    true,
  );
});

it('filters on the organisation sub-tree, the audience, the category, the course folder, the dates and the course status', async () => {
  // By user, then course code: the courses of a user come in id order.
  const pairs = async (filters: Record<string, unknown>) =>
    (await rows({ columns: ['user.login', 'course.code'], filters })).map((r) => key(r, 'login', 'course unique id')).sort();
  // The root's sub-tree is everyone.
  expect((await pairs({ organisationId: ROOT_ORGANISATION_ID })).filter((p) => p.startsWith('x-u')).length).toBe(6);
  expect(await pairs({ organisationId: d.a })).toEqual(['x-u2 | X-C1', 'x-u2 | X-C2', 'x-u1 | X-C1', 'x-u1 | X-C2'].sort());
  expect(await pairs({ organisationId: d.a, audienceId: d.audience })).toEqual(['x-u1 | X-C1', 'x-u1 | X-C2'].sort());
  expect(await pairs({ organisationId: t.home, categoryId: d.category })).toEqual(['x-u2 | X-C1', 'x-u1 | X-C1', 'x-u3 | X-C1'].sort());
  expect(await pairs({ organisationId: d.a, courseFolderId: d.folder })).toEqual(['x-u2 | X-C1', 'x-u1 | X-C1'].sort());
  expect(await pairs({ organisationId: d.a, courseFolderId: d.folder, courseSubfolders: true, includeExternalTrainings: true })).toEqual(
    ['x-u2 | X-C1', 'x-u2 | X-C2', 'x-u1 | X-C1', 'x-u1 | X-C2', 'x-u1 | X-EXT'].sort(),
  );
  expect(await pairs({ organisationId: t.home, startDateFrom: '2027-02-01', endDateTo: '2027-12-31' })).toEqual(
    ['x-u2 | X-C1', 'x-u2 | X-C2', 'x-u3 | X-C1', 'x-u3 | X-C2'].sort(),
  );
  expect(await pairs({ organisationId: t.home, status: 'in_progress' })).toEqual(['x-u2 | X-C1'].sort());
  expect(await pairs({ organisationId: t.home, status: 'completed' })).toEqual(['x-u1 | X-C1'].sort());
  expect((await pairs({ organisationId: t.home, status: 'not_started' })).length).toBe(4);
});

it('exports curricula, alone or with their courses, filtered on the curriculum folder and status', async () => {
  const alone = await rows({
    columns: ['user.login', 'curriculum.code', 'curriculum.name', 'curriculum.folder', 'curriculum.status', 'curriculum.disabled'],
    filters: { organisationId: t.home },
  });
  expect(alone).toEqual([
    {
      login: 'x-u1',
      'curriculum unique id': 'X-P',
      curriculum: 'Onboarding path',
      'curriculum folder': 'Onboarding',
      'curriculum status': 'incomplete',
      'curriculum disabled': '0',
    },
  ]);
  const withCourses = await rows({
    columns: ['user.login', 'curriculum.code', 'course.code', 'course.status'],
    filters: { curriculumFolderId: d.pathFolder, curriculumSubfolders: true, status: 'in_progress' },
  });
  // In the curriculum's order.
  expect(withCourses.map((r) => key(r, 'login', 'curriculum unique id', 'course unique id', 'course status'))).toEqual([
    'x-u1 | X-P | X-C1 | completed',
    'x-u1 | X-P | X-C2 | not_started',
  ]);
  expect(await rows({ columns: ['user.login', 'curriculum.code'], filters: { curriculumId: d.path.id, status: 'completed' } })).toEqual([]);
});

it('defuses cells a spreadsheet would run as formulas', async () => {
  const { text } = await exportCsv({
    columns: ['user.login', 'user.lastName', 'user.firstName', 'user.extId', 'user.custom1'],
    filters: { organisationId: d.a },
  });
  const records = parse(text, { delimiter: ';', columns: true }) as Record<string, string>[];
  expect(records.sort((a, b) => a.login.localeCompare(b.login))).toEqual([
    { login: 'x-u1', 'last name': 'Alpha', 'first name': 'Ann', 'user external id': 'U1', 'user custom 1': `'=HYPERLINK("http://evil")` },
    { login: 'x-u2', 'last name': "'+Bravo", 'first name': "'@Bob", 'user external id': "'-2", 'user custom 1': '' },
  ]);
  // Quoted as CSV (it holds quotes), the apostrophe inside the quotes; CRLF line ends.
  expect(text).toContain(`;"'=HYPERLINK(""http://evil"")"\r\n`);
});

it('writes the byte order mark and the separator asked', async () => {
  const withBom = await exportCsv({ columns: ['user.login', 'user.city'], filters: { organisationId: d.a }, separator: ',', bom: true });
  expect([...withBom.raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = (text: string) => text.split('\r\n');
  expect(lines(withBom.text.slice(1))[0]).toBe('login,city');
  expect(lines(withBom.text.slice(1)).slice(1).sort()).toEqual(['', 'x-u1,Lyon', 'x-u2,']);
  const plain = await exportCsv({ columns: ['user.login', 'user.city'], filters: { organisationId: d.a } });
  expect(plain.raw[0]).toBe('l'.charCodeAt(0));
  expect(lines(plain.text)[0]).toBe('login;city');
  expect(lines(plain.text).slice(1).sort()).toEqual(['', 'x-u1;Lyon', 'x-u2;']);
});

it('starts over a job whose process died (no heartbeat within the lease)', async () => {
  const db = t.stack.statistics.db;
  const { rows: made } = await db.query<{ id: string }>(
    `INSERT INTO exports (id, actor_id, request, status, attempts, rows_written, heartbeat_at)
     VALUES (gen_random_uuid(), $1, $2, 'running', 1, 1234, now() - interval '1 hour') RETURNING id`,
    [t.stack.fixture.adminId, { columns: ['user.login'], filters: { organisationId: d.a }, separator: ';', bom: false }],
  );
  const id = made[0].id;
  // What the dead process had written.
  await db.query(`INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, 0, 'half a file'), ($1, 1, 'more')`, [id]);
  const job = await t.eventually(async () => {
    const j = await t.get(`/v1/exports/${id}`);
    return j.status === 'done' ? j : undefined;
  }, 'the job started over');
  expect(job).toMatchObject({ attempts: 2, rowsWritten: 2 });
  expect((await t.request('GET', job.file)).body.split('\r\n').sort()).toEqual(['', 'login', 'x-u1', 'x-u2']);
});

it('refuses bad input with a 400 naming the field', async () => {
  const refusal = async (body: unknown) => {
    const r = await t.request('POST', '/v1/exports', body);
    expect(r.status).toBe(400);
    return r.body.field;
  };
  expect(await refusal({ columns: ['user.login', 'user.shoeSize'] })).toBe('columns[1]');
  expect(await refusal({ columns: [] })).toBe('columns');
  expect(await refusal({ columns: ['user.login'], separator: '|' })).toBe('separator');
  expect(await refusal({ columns: ['user.login'], filters: { status: 'done' } })).toBe('filters.status');
  expect(await refusal({ columns: ['user.login'], filters: { status: 'completed' } })).toBe('filters.status');
  expect(await refusal({ columns: ['user.login'], filters: { categoryId: d.category } })).toBe('filters.categoryId');
  expect(await refusal({ columns: ['course.code'], filters: { courseId: d.c1.id, courseFolderId: d.folder } })).toBe('filters.courseId');
  expect(await refusal({ columns: ['course.code'], filters: { startDateFrom: '2027-02-30' } })).toBe('filters.startDateFrom');
});

// Last: its administrators join the organisations the other tests export.
it("gives a scoped administrator only its scope's rows, and nobody another's file", async () => {
  const scoped = await t.scopedAdministrator(d.a, ['statistics:read']);
  const got = await rows({ columns: ['user.login', 'course.code'], filters: {} }, scoped.auth);
  expect([...new Set(got.map((r) => r.login))].sort()).toEqual(['x-u1', 'x-u2']);
  // Its own sub-tree filter does not widen it.
  expect(await rows({ columns: ['user.login'], filters: { organisationId: d.b } }, scoped.auth)).toEqual([]);

  const admins = await exportCsv({ columns: ['user.login'] });
  const refused = await t.request('GET', `/v1/exports/${admins.job.id}/file`, undefined, scoped.auth);
  expect(refused.status).toBe(404);
  expect((await t.request('GET', `/v1/exports/${admins.job.id}`, undefined, scoped.auth)).status).toBe(404);

  const outsider = await t.scopedAdministrator(d.b, ['users:read']);
  const denied = await t.request('POST', '/v1/exports', { columns: ['user.login'] }, outsider.auth);
  expect(denied.status).toBe(403);
});
