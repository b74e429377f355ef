import { basic, readStream, startStack, type TestStack } from '@assistants/testing';

/** ROOT > EU > FR, ROOT > US. "User manager" is granted on FR to fr-admin, who sits in FR
 * next to boss, an Administrator of the whole tree. fr-admin sees and changes only FR, and
 * never anyone holding more than it does. Identity decides all of it: the gateway only
 * passes the acting user on. */
let stack: TestStack;
let frAdmin: string;
const org: Record<string, string> = {};
const user: Record<string, string> = {};
let userManager: string;
let administrator: string;

const BOSS_PASSWORD = 'boss original password';

beforeAll(async () => {
  // The gateway's own limit on failed logins per address is high here: identity's, per login, is tested.
  stack = await startStack({ GATEWAY_AUTH_FAILURES_PER_MINUTE: '1000' });
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
    ['fanny', 'FR'],
    ['sam', 'US'],
  ]) {
    user[login] = (await post('/v1/users', { login, lastName: login, firstName: 'X', organisationId: org[orgKey] })).id;
  }
  userManager = (
    await post('/v1/roles', {
      name: 'User manager',
      permissions: ['users:read', 'users:write', 'organisations:read', 'organisations:write', 'lists:read', 'lists:write', 'roles:grant'],
    })
  ).id;
  administrator = (await stack.http('GET', '/v1/roles?query=administrator')).body.items[0].id;
  const admin = await post('/v1/users', {
    login: 'fr-admin',
    lastName: 'Admin',
    firstName: 'France',
    organisationId: org.FR,
    password: 'fr admin password',
  });
  user['fr-admin'] = admin.id;
  await post(`/v1/users/${admin.id}/roles`, { roleIds: [userManager], organisationId: org.FR });
  user.boss = (
    await post('/v1/users', { login: 'boss', lastName: 'Boss', firstName: 'B', organisationId: org.FR, password: BOSS_PASSWORD })
  ).id;
  await post(`/v1/users/${user.boss}/roles`, {
    roleIds: [administrator],
    organisationId: (await stack.http('GET', '/v1/organisations')).body.items[0].id,
  });
  frAdmin = basic('fr-admin', 'fr admin password');
});

afterAll(async () => {
  await stack?.stop();
});

const as = (method: string, path: string, body?: object) => stack.http(method, path, { auth: frAdmin, body });
const logins = (body: { items: { login: string }[] }) => body.items.map((u) => u.login).sort();
const grantsOf = async (id: string) =>
  (await stack.http('GET', `/v1/users/${id}/roles`)).body.items.map((g: { roleName: string; organisationId: string }) => [
    g.roleName,
    g.organisationId,
  ]);

/** Events published since the last call, after the outbox is flushed. */
let seen = 0;
async function newEvents(): Promise<string[]> {
  await stack.identity.flushEvents();
  const events = await readStream(stack.identity.bus, 'IDENTITY');
  const fresh = events.slice(seen).map((e) => e.subject);
  seen = events.length;
  return fresh;
}

describe('escalation', () => {
  it('cannot give itself a role carrying more than it holds, whatever the case of the role id', async () => {
    const everything = await stack.http('POST', '/v1/roles', { body: { name: 'Everything', permissions: ['*'] } });
    await newEvents();
    for (const roleId of [everything.body.id, everything.body.id.toUpperCase(), administrator.toUpperCase()]) {
      const attempt = await as('POST', `/v1/users/${user['fr-admin']}/roles`, { roleIds: [roleId], organisationId: org.FR });
      expect(attempt.status).toBe(403);
      expect(attempt.body).toMatchObject({ error: 'permission_denied', field: 'roleIds[0]' });
      expect(attempt.body.message).toMatch(
        /you cannot give the role "(Everything|Administrator)": you do not hold \* on that organisation/,
      );
    }
    expect(await grantsOf(user['fr-admin'])).toEqual([['User manager', org.FR]]);
    expect(await newEvents()).toEqual([]);
  });

  it('cannot give an unknown role, nor give or take back one outside its sub-tree', async () => {
    const unknown = await as('POST', `/v1/users/${user.francois}/roles`, {
      roleIds: ['3F0C8A52-8A8E-4A57-9C38-2A4F1B0A0B0B'],
      organisationId: org.FR,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.field).toBe('roleIds[0]');
    const outside = await as('POST', `/v1/users/${user.francois}/roles`, { roleIds: [userManager], organisationId: org.US });
    expect(outside.status).toBe(404);
    expect(outside.body.field).toBe('organisationId');

    // A grant on US (given by the root administrator) cannot be taken back from FR.
    expect(
      (await stack.http('POST', `/v1/users/${user.francois}/roles`, { body: { roleIds: [userManager], organisationId: org.US } })).status,
    ).toBe(200);
    const revoke = await as('DELETE', `/v1/users/${user.francois}/roles/${userManager}?organisationId=${org.US}`);
    expect(revoke.status).toBe(404);
    // Nor can the boss's Administrator grant be taken back: fr-admin could not give it.
    const root = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
    expect((await as('DELETE', `/v1/users/${user.boss}/roles/${administrator}?organisationId=${root}`)).status).toBe(404);
    await newEvents();

    // Within its sub-tree, with a role it holds: given and taken back, one event each.
    const given = await as('POST', `/v1/users/${user.francois}/roles`, { roleIds: [userManager], organisationId: org.FR });
    expect(given.body).toEqual({ granted: 1 });
    expect(await newEvents()).toEqual(['identity.role.granted.v1']);
    expect((await as('DELETE', `/v1/users/${user.francois}/roles/${userManager}?organisationId=${org.FR}`)).status).toBe(204);
    expect(await newEvents()).toEqual(['identity.role.revoked.v1']);
    expect(await grantsOf(user.francois)).toEqual([['User manager', org.US]]);

    // Holding a grant on US, francois now holds more than fr-admin: out of its reach.
    expect((await as('PATCH', `/v1/users/${user.francois}`, { custom2: 'x' })).status).toBe(403);
    expect((await stack.http('DELETE', `/v1/users/${user.francois}/roles/${userManager}?organisationId=${org.US}`)).status).toBe(204);
    await newEvents();
  });

  it('cannot define roles or audiences (global objects need a grant on the root)', async () => {
    const audience = await as('POST', '/v1/audiences', { name: 'Sneaky' });
    expect(audience.status).toBe(403);
    expect(audience.body).toEqual({
      error: 'permission_denied',
      message: 'this needs the permission audiences:write on the root organisation',
    });
    expect((await as('POST', '/v1/roles', { name: 'x', permissions: [] })).status).toBe(403);
  });
});

describe('account takeover', () => {
  it('cannot reset the password of, change or delete a user of its sub-tree who holds more rights', async () => {
    await newEvents();
    const reset = await as('PUT', `/v1/users/${user.boss}/password`, { password: 'taken over now' });
    expect(reset.status).toBe(403);
    expect(reset.body.message).toMatch(/user "boss" holds the role "Administrator"/);
    expect((await as('PATCH', `/v1/users/${user.boss}`, { email: 'attacker@example.com' })).status).toBe(403);
    expect((await as('DELETE', `/v1/users/${user.boss}`)).status).toBe(403);
    const audience = (await stack.http('POST', '/v1/audiences', { body: { name: 'Bosses' } })).body;
    await newEvents();
    expect((await as('POST', `/v1/users/${user.boss}/audiences`, { audienceIds: [audience.id] })).status).toBe(403);

    expect((await stack.http('GET', '/v1/me', { auth: basic('boss', 'taken over now') })).status).toBe(401);
    expect((await stack.http('GET', '/v1/me', { auth: basic('boss', BOSS_PASSWORD) })).status).toBe(200);
    expect((await stack.http('GET', `/v1/users/${user.boss}`)).body.email).toBe('');
    expect(await newEvents()).toEqual([]);
  });

  it('changes users of its sub-tree who hold no more than it does', async () => {
    const changed = await as('PATCH', `/v1/users/${user.francois}`, { custom1: 'changed by FR' });
    expect(changed.status).toBe(200);
    expect(changed.body.custom1).toBe('changed by FR');
    expect((await as('PUT', `/v1/users/${user.fanny}/password`, { password: 'fanny new password' })).status).toBe(204);
    expect(await newEvents()).toEqual(['identity.user.updated.v1', 'identity.user.updated.v1']);
  });

  it('cannot read or change a user, nor an organisation, outside its sub-tree', async () => {
    expect((await as('GET', `/v1/users/${user.sam}`)).status).toBe(404);
    expect((await as('GET', `/v1/users/${user.anna}`)).status).toBe(404);
    expect((await as('PATCH', `/v1/users/${user.sam}`, { custom1: 'changed' })).status).toBe(404);
    expect((await as('PUT', `/v1/users/${user.sam}/password`, { password: 'taken over!' })).status).toBe(404);
    expect((await as('DELETE', `/v1/users/${user.sam}`)).status).toBe(404);
    expect((await as('PATCH', `/v1/users/${user.francois}`, { organisationId: org.US })).status).toBe(404);
    const created = await as('POST', '/v1/users', { login: 'intruder', lastName: 'I', firstName: 'N', organisationId: org.US });
    expect(created.status).toBe(404);
    expect(created.body.field).toBe('organisationId');

    expect((await as('GET', `/v1/organisations/${org.US}`)).status).toBe(404);
    expect((await as('GET', `/v1/organisations/${org.EU}`)).status).toBe(404);
    expect((await as('PATCH', `/v1/organisations/${org.US}`, { label: 'mine' })).status).toBe(404);
    expect((await as('DELETE', `/v1/organisations/${org.US}`)).status).toBe(404);
    expect((await as('GET', '/v1/organisations')).body.items.map((o: { extId: string }) => o.extId)).toEqual(['FR']);

    expect((await stack.http('GET', `/v1/users/${user.sam}`)).body.custom1).toBe('');
    expect((await stack.http('GET', `/v1/organisations/${org.US}`)).body.label).toBe('United States');
    expect((await stack.http('POST', '/v1/users/search', { body: { filter: { login: 'intruder' } } })).body.total).toBe(0);
    expect(await newEvents()).toEqual([]);
  });
});

describe('lists', () => {
  let rootList: { id: string };

  beforeAll(async () => {
    // Made by the root administrator: everyone called "a…" or "s…" — members mostly outside FR.
    rootList = (await stack.http('POST', '/v1/lists', { body: { name: 'Whole tree', type: 'dynamic', criteria: { login: 'a' } } })).body;
    await newEvents();
  });

  it('cannot read, count, change or delete a list owned outside its scope', async () => {
    expect((await as('GET', `/v1/lists/${rootList.id}`)).status).toBe(404);
    expect((await as('PATCH', `/v1/lists/${rootList.id}`, { criteria: { login: '' } })).status).toBe(404);
    expect((await as('DELETE', `/v1/lists/${rootList.id}`)).status).toBe(404);
    expect((await as('GET', `/v1/lists/${rootList.id}/members`)).status).toBe(404);
    expect((await as('POST', '/v1/selections/users/resolve', { selection: { type: 'list', listId: rootList.id } })).status).toBe(404);
    expect((await as('POST', '/v1/lists/search', { filter: {} })).body.items).toEqual([]);
    const list = await stack.http('GET', `/v1/lists/${rootList.id}`);
    expect(list.body.criteria).toMatchObject({ login: 'a' });
    expect(await newEvents()).toEqual([]);
  });

  it('owns its lists: their criteria never reach beyond its sub-tree', async () => {
    const everyone = await as('POST', '/v1/lists', { name: 'Everyone I manage', type: 'dynamic', criteria: {} });
    expect(everyone.status).toBe(201);
    expect(everyone.body.ownerOrganisationId).toBe(org.FR);
    const members = await as('GET', `/v1/lists/${everyone.body.id}/members`);
    expect(logins(members.body)).toEqual(['boss', 'fanny', 'fr-admin', 'francois']);
    // The root administrator sees the same members: the list is pinned to FR for everyone.
    expect(logins((await stack.http('GET', `/v1/lists/${everyone.body.id}/members`)).body)).toEqual([
      'boss',
      'fanny',
      'fr-admin',
      'francois',
    ]);
    expect(everyone.body.memberCount).toBe(4);
    const events = await newEvents();
    expect(events.filter((s) => s === 'identity.list-member.entered.v1')).toHaveLength(4);

    // A static list takes only users of its sub-tree.
    const statics = await as('POST', '/v1/lists', { name: 'FR static', type: 'static', memberIds: [user.francois] });
    expect(statics.status).toBe(201);
    expect((await as('POST', `/v1/lists/${statics.body.id}/members`, { userIds: [user.sam] })).status).toBe(404);
    expect((await as('POST', `/v1/lists/${statics.body.id}/members`, { userIds: [user.fanny] })).body).toEqual({ added: 1 });
    const found = await as('POST', '/v1/lists/search', { filter: {} });
    expect(found.body.items.map((l: { name: string }) => l.name)).toEqual(['Everyone I manage', 'FR static']);
  });

  it('counts members within the scope of whoever reads', async () => {
    // A member of an FR list who has since moved to US: the root administrator counts them,
    // fr-admin does not (nor lists them).
    const mover = await stack.http('POST', '/v1/users', {
      body: { login: 'mover', lastName: 'M', firstName: 'M', organisationId: org.FR },
    });
    const list = await as('POST', '/v1/lists', { name: 'Movers', type: 'static', memberIds: [mover.body.id, user.fanny] });
    expect(list.body.memberCount).toBe(2);
    expect((await stack.http('PATCH', `/v1/users/${mover.body.id}`, { body: { organisationId: org.US } })).status).toBe(200);
    expect((await stack.http('GET', `/v1/lists/${list.body.id}`)).body.memberCount).toBe(2);
    expect((await as('GET', `/v1/lists/${list.body.id}`)).body.memberCount).toBe(1);
    expect(logins((await as('GET', `/v1/lists/${list.body.id}/members`)).body)).toEqual(['fanny']);
  });
});

describe('selections', () => {
  it('resolves filters and lists within its sub-tree only', async () => {
    const everyone = await as('POST', '/v1/users/search', { filter: {} });
    expect(logins(everyone.body)).toEqual(['boss', 'fanny', 'fr-admin', 'francois']);
    const filtered = await as('POST', '/v1/selections/users/resolve', { selection: { type: 'filter', filter: { login: 'a' } } });
    expect(logins(filtered.body)).toEqual(['fanny', 'fr-admin', 'francois']);
    const picked = await as('POST', '/v1/selections/users/resolve', {
      selection: { type: 'ids', ids: [user.sam, user.francois, user.anna] },
    });
    expect(logins(picked.body)).toEqual(['francois']);
    const outsideOrg = await as('POST', '/v1/selections/users/resolve', {
      selection: { type: 'filter', filter: { organisationId: org.EU, includeSubOrganisations: true } },
    });
    expect(outsideOrg.status).toBe(404);
    expect(outsideOrg.body.field).toBe('selection.filter.organisationId');
  });
});

describe('must change password', () => {
  it('lets a user whose password was set by an administrator do nothing but change it', async () => {
    await stack.http('POST', `/v1/users/${user.francois}/roles`, { body: { roleIds: [userManager], organisationId: org.FR } });
    expect(
      (await stack.http('PUT', `/v1/users/${user.francois}/password`, { body: { password: 'temporary 123', mustChangePassword: true } }))
        .status,
    ).toBe(204);
    const temporary = basic('francois', 'temporary 123');
    const me = await stack.http('GET', '/v1/me', { auth: temporary });
    expect(me.body.mustChangePassword).toBe(true);
    const blocked = await stack.http('GET', `/v1/users/${user.fanny}`, { auth: temporary });
    expect(blocked.status).toBe(409);
    expect(blocked.body.message).toMatch(/change it before anything else/);
    expect((await stack.http('POST', '/v1/users/search', { auth: temporary, body: { filter: {} } })).status).toBe(409);

    await newEvents();
    const wrong = await stack.http('PUT', '/v1/me/password', {
      auth: temporary,
      body: { currentPassword: 'nope', newPassword: 'my own 456' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('currentPassword');
    const changed = await stack.http('PUT', '/v1/me/password', {
      auth: temporary,
      body: { currentPassword: 'temporary 123', newPassword: 'my own 456' },
    });
    expect(changed.status).toBe(204);
    expect(await newEvents()).toEqual(['identity.user.updated.v1']);
    expect((await stack.http('GET', '/v1/me', { auth: temporary })).status).toBe(401);
    const mine = basic('francois', 'my own 456');
    expect((await stack.http('GET', '/v1/me', { auth: mine })).body.mustChangePassword).toBe(false);
    expect((await stack.http('GET', `/v1/users/${user.fanny}`, { auth: mine })).status).toBe(200);
  });
});

describe('my own password', () => {
  it('changes only the caller’s password: no one else can be named, nor a stronger user’s reached', async () => {
    await newEvents();
    const naming = await as('PUT', '/v1/me/password', {
      currentPassword: 'fr admin password',
      newPassword: 'taken over now',
      userId: user.boss,
    });
    expect(naming.status).toBe(400);
    expect(naming.body.field).toBe('userId');
    // The boss's own current password is asked for, and fr-admin does not know it.
    const guessing = await as('PUT', '/v1/me/password', { currentPassword: BOSS_PASSWORD.slice(0, 4), newPassword: 'taken over now' });
    expect(guessing.status).toBe(400);
    expect(guessing.body.field).toBe('currentPassword');
    expect((await stack.http('GET', '/v1/me', { auth: basic('boss', BOSS_PASSWORD) })).status).toBe(200);
    expect((await stack.http('GET', '/v1/me', { auth: frAdmin })).status).toBe(200);
    expect(await newEvents()).toEqual([]);
  });
});

describe('failed logins', () => {
  it('are counted per login inside identity: past 10, the right password is refused too (429)', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await stack.http('GET', '/v1/me', { auth: basic('fanny', `guess number ${i}`) })).status).toBe(401);
    }
    const refused = await stack.http('GET', '/v1/me', { auth: basic('fanny', 'fanny new password') });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      error: 'resource_exhausted',
      message: expect.stringMatching(/too many failed logins for this login/),
    });
    expect((await stack.http('POST', '/v1/sessions', { auth: basic('fanny', 'fanny new password') })).status).toBe(429);
    // Another login from the same address goes on.
    expect((await stack.http('GET', '/v1/me', { auth: frAdmin })).status).toBe(200);
  });
});
