import { startStack, type TestStack } from '@assistants/testing';

/**
 * The export's projections (migration 002) on the whole stack (real NATS and PostgreSQL):
 * users, organisations (with their path, which follows a move), audiences, folders,
 * categories and the course and curriculum columns follow identity's and the catalogue's
 * events.
 */
let stack: TestStack;
let n = 0;

async function call(method: string, path: string, body?: unknown) {
  const result = await stack.http(method, path, { body });
  if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

const row = async (sql: string, params: unknown[]) => (await stack.statistics.db.query(sql, params)).rows[0];

async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('keeps the users with their organisation, managers, audiences and custom fields, and follows changes and deletions', async () => {
  const org = (await call('POST', '/v1/organisations', { extId: 'PX-ORG', label: 'Projection org' })).id;
  const audience = (await call('POST', '/v1/audiences', { name: 'projection-audience' })).id;
  const manager = (await call('POST', '/v1/users', { login: `px-${++n}`, lastName: 'Boss', firstName: 'B', organisationId: org })).id;
  const user = (
    await call('POST', '/v1/users', {
      login: `px-${++n}`,
      extId: 'EXT-PX',
      lastName: 'Durand',
      firstName: 'Zoé',
      email: 'zoe@example.com',
      language: 'fr-FR',
      organisationId: org,
      managerId: manager,
      city: 'Lyon',
      country: 'FR',
      custom3: 'c3',
      audienceIds: [audience],
    })
  ).id;
  const copy = await until(() => row('SELECT * FROM users WHERE id = $1', [user]), 'the user copied');
  expect(copy).toMatchObject({
    login: `px-${n}`,
    ext_id: 'EXT-PX',
    last_name: 'Durand',
    first_name: 'Zoé',
    email: 'zoe@example.com',
    language: 'fr-FR',
    organisation_id: org,
    manager_id: manager,
    secondary_manager_id: null,
    city: 'Lyon',
    country: 'FR',
    disabled: false,
    deleted: false,
  });
  expect(copy.custom).toEqual(['', '', 'c3', '', '', '', '', '', '', '']);
  expect(await row('SELECT a.name FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = $1', [user])).toEqual(
    {
      name: 'projection-audience',
    },
  );

  await call('PATCH', `/v1/users/${user}`, { city: 'Paris', disabled: true });
  await until(async () => (await row('SELECT city, disabled FROM users WHERE id = $1', [user])).city === 'Paris', 'the change');
  expect(await row('SELECT disabled FROM users WHERE id = $1', [user])).toEqual({ disabled: true });

  // an audience added, then the first one taken away: the copy follows both
  const audiencesOf = async () =>
    (
      await stack.statistics.db.query<{ name: string }>(
        'SELECT a.name FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = $1 ORDER BY a.name',
        [user],
      )
    ).rows.map((r) => r.name);
  const second = (await call('POST', '/v1/audiences', { name: 'projection-audience-2' })).id;
  await call('POST', `/v1/users/${user}/audiences`, { audienceIds: [second] });
  await until(async () => (await audiencesOf()).length === 2, 'the audience added');
  expect(await audiencesOf()).toEqual(['projection-audience', 'projection-audience-2']);
  await call('DELETE', `/v1/users/${user}/audiences/${audience}`);
  await until(async () => (await audiencesOf()).length === 1, 'the audience taken away');
  expect(await audiencesOf()).toEqual(['projection-audience-2']);

  await call('DELETE', `/v1/users/${user}`);
  await until(async () => (await row('SELECT deleted FROM users WHERE id = $1', [user])).deleted, 'the deletion');
  expect(await row('SELECT count(*)::int AS n FROM user_audiences WHERE user_id = $1', [user])).toEqual({ n: 0 });
});

it('keeps the organisation tree as paths, which follow a move of a sub-tree', async () => {
  const a = (await call('POST', '/v1/organisations', { extId: 'PX-A', label: 'A' })).id;
  const b = (await call('POST', '/v1/organisations', { extId: 'PX-B', label: 'B' })).id;
  const a1 = (await call('POST', '/v1/organisations', { extId: 'PX-A1', label: 'A1', parentId: a })).id;
  const a11 = (await call('POST', '/v1/organisations', { extId: 'PX-A11', label: 'A11', parentId: a1 })).id;
  const path = async (id: string) => (await row('SELECT path FROM organisations WHERE id = $1', [id]))?.path as string[] | undefined;
  await until(async () => (await path(a11))?.length, 'the sub-tree copied');
  expect((await path(a11))!.slice(-3)).toEqual([a, a1, a11]);
  expect(await row('SELECT ext_id, label, parent_id FROM organisations WHERE id = $1', [a1])).toEqual({
    ext_id: 'PX-A1',
    label: 'A1',
    parent_id: a,
  });

  await call('PATCH', `/v1/organisations/${a1}`, { parentId: b });
  await until(async () => (await path(a11))!.includes(b), 'the move followed');
  expect((await path(a11))!.slice(-3)).toEqual([b, a1, a11]);
  expect((await path(a1))!.slice(-2)).toEqual([b, a1]);
});

it('keeps folders with their paths, categories, and the course and curriculum columns of the export', async () => {
  const top = (await call('POST', '/v1/catalog/folders', { kind: 'course', name: 'Top' })).id;
  const sub = (await call('POST', '/v1/catalog/folders', { kind: 'course', name: 'Sub', parentId: top })).id;
  const cfolder = (await call('POST', '/v1/catalog/folders', { kind: 'curriculum', name: 'Paths' })).id;
  const category = (await call('POST', '/v1/catalog/categories', { name: 'Safety' })).id;
  const course = await call('POST', '/v1/courses', {
    code: `PX-C${++n}`,
    name: 'Fire drill',
    folderId: sub,
    categoryId: category,
    custom2: 'cc2',
    lessons: [{ code: `PX-L${n}`, name: 'L', type: 'L' }],
  });
  const curriculum = await call('POST', '/v1/curricula', { code: `PX-P${n}`, name: 'Path', folderId: cfolder, courseIds: [course.id] });

  const copy = await until(() => row('SELECT * FROM courses WHERE id = $1', [course.id]), 'the course');
  expect(copy).toMatchObject({ name: 'Fire drill', folder_id: sub, category_id: category, disabled: false });
  expect((copy.custom as string[])[1]).toBe('cc2');
  const cur = await until(() => row('SELECT * FROM curricula WHERE id = $1', [curriculum.id]), 'the curriculum');
  expect(cur).toMatchObject({ folder_id: cfolder, disabled: false });
  expect(await until(() => row('SELECT kind, name, path FROM folders WHERE id = $1', [sub]), 'the folder')).toEqual({
    kind: 'course',
    name: 'Sub',
    path: [top, sub],
  });
  expect(await until(() => row('SELECT name FROM categories WHERE id = $1', [category]), 'the category')).toEqual({ name: 'Safety' });
});
