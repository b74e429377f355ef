import { basic, startStack, type TestStack } from '@assistants/testing';

/** ROOT > EU > FR, ROOT > US. An administrator of EU sees, selects and changes only the
 * users of EU and FR. */
let stack: TestStack;
let scoped: string;
const org: Record<string, string> = {};
const user: Record<string, string> = {};
let userManager: string;

beforeAll(async () => {
  stack = await startStack();
  const post = async (path: string, body: object) => {
    const result = await stack.http('POST', path, { body });
    if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  };
  org.EU = (await post('/v1/organisations', { extId: 'EU', label: 'Europe' })).id;
  org.FR = (await post('/v1/organisations', { extId: 'FR', label: 'France', parentId: org.EU })).id;
  org.US = (await post('/v1/organisations', { extId: 'US', label: 'United States' })).id;
  for (const [login, orgKey] of [
    ['anna', 'EU'],
    ['francois', 'FR'],
    ['sam', 'US'],
  ]) {
    user[login] = (await post('/v1/users', { login, lastName: login, firstName: 'X', organisationId: org[orgKey] })).id;
  }
  userManager = (
    await post('/v1/roles', {
      name: 'User manager',
      permissions: ['users:read', 'users:write', 'organisations:read', 'lists:read', 'lists:write', 'roles:grant'],
    })
  ).id;
  const euAdmin = await post('/v1/users', {
    login: 'eu-admin',
    lastName: 'Admin',
    firstName: 'Europe',
    organisationId: org.EU,
    password: 'eu admin password',
  });
  expect(
    (await stack.http('POST', `/v1/users/${euAdmin.id}/roles`, { body: { roleIds: [userManager], organisationId: org.EU } })).status,
  ).toBe(200);
  scoped = basic('eu-admin', 'eu admin password');
});

afterAll(async () => {
  await stack?.stop();
});

const as = (method: string, path: string, body?: object) => stack.http(method, path, { auth: scoped, body });
const logins = (body: { items: { login: string }[] }) => body.items.map((u) => u.login).sort();

it('sees only the users of its sub-tree when searching and resolving selections', async () => {
  const everyone = await as('POST', '/v1/users/search', { filter: {} });
  expect(everyone.status).toBe(200);
  expect(logins(everyone.body)).toEqual(['anna', 'eu-admin', 'francois']);

  const picked = await as('POST', '/v1/selections/users/resolve', { selection: { type: 'ids', ids: [user.sam, user.francois] } });
  expect(logins(picked.body)).toEqual(['francois']);

  const tree = await as('GET', '/v1/organisations');
  expect(tree.body.items.map((o: { extId: string }) => o.extId)).toEqual(['EU']);
});

it('cannot read or change a user outside its sub-tree', async () => {
  expect((await as('GET', `/v1/users/${user.sam}`)).status).toBe(404);
  expect((await as('PATCH', `/v1/users/${user.sam}`, { custom1: 'changed' })).status).toBe(404);
  expect((await as('PUT', `/v1/users/${user.sam}/password`, { password: 'taken over!' })).status).toBe(404);
  expect((await as('DELETE', `/v1/users/${user.sam}`)).status).toBe(404);
  expect((await as('PATCH', `/v1/users/${user.francois}`, { organisationId: org.US })).status).toBe(404);
  const created = await as('POST', '/v1/users', { login: 'intruder', lastName: 'I', firstName: 'N', organisationId: org.US });
  expect(created.status).toBe(404);
  expect(created.body.field).toBe('organisationId');

  const sam = await stack.http('GET', `/v1/users/${user.sam}`);
  expect(sam.status).toBe(200);
  expect(sam.body.custom1).toBe('');
  expect((await stack.http('POST', '/v1/users/search', { body: { filter: { login: 'intruder' } } })).body.total).toBe(0);
});

it('changes users inside its sub-tree', async () => {
  const changed = await as('PATCH', `/v1/users/${user.francois}`, { custom1: 'changed by EU' });
  expect(changed.status).toBe(200);
  expect(changed.body.custom1).toBe('changed by EU');
});

it('sees only its own members of a list', async () => {
  const list = await stack.http('POST', '/v1/lists', { body: { name: 'Everyone', type: 'static', memberIds: [user.anna, user.sam] } });
  const members = await as('GET', `/v1/lists/${list.body.id}/members`);
  expect(members.status).toBe(200);
  expect(logins(members.body)).toEqual(['anna']);
  const added = await as('POST', `/v1/lists/${list.body.id}/members`, { userIds: [user.sam] });
  expect(added.status).toBe(404);
});

it('needs the permission, and a grant on the root for global objects', async () => {
  const audience = await as('POST', '/v1/audiences', { name: 'Sneaky' });
  expect(audience.status).toBe(403);
  expect(audience.body).toEqual({
    error: 'permission_denied',
    message: 'this needs the permission audiences:write on the root organisation',
  });
  expect((await as('POST', '/v1/roles', { name: 'x', permissions: [] })).status).toBe(403);
});

it('cannot give a role with more than it holds, nor outside its sub-tree', async () => {
  const administrator = (await stack.http('GET', '/v1/roles?query=administrator')).body.items[0].id;
  const escalation = await as('POST', `/v1/users/${user.francois}/roles`, { roleIds: [administrator], organisationId: org.FR });
  expect(escalation.status).toBe(403);
  expect(escalation.body.message).toMatch(/cannot give the role "Administrator"/);

  const outside = await as('POST', `/v1/users/${user.francois}/roles`, { roleIds: [userManager], organisationId: org.US });
  expect(outside.status).toBe(403);

  const fine = await as('POST', `/v1/users/${user.francois}/roles`, { roleIds: [userManager], organisationId: org.FR });
  expect(fine.status).toBe(200);
  expect(fine.body).toEqual({ granted: 1 });
  const grants = await stack.http('GET', `/v1/users/${user.francois}/roles`);
  expect(grants.body.items).toEqual([expect.objectContaining({ roleName: 'User manager', organisationId: org.FR })]);
});
