import { DomainError } from '@assistants/kit';
import { RoleChanged, RoleDeleted, RoleGrantChanged, UserChanged } from '@assistants/proto/gen/identity/v1/events';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import {
  actingAs,
  ADMIN,
  identityClient,
  type IdentityClient,
  type IdentityFixture,
  readStream,
  startIdentityFixture,
  type TestIdentity,
} from '@assistants/testing';
import { ADMINISTRATOR_ROLE_ID, EventLog, expectEnvelopes, ROOT_ORGANISATION_ID, subjects, UNKNOWN_ID, actorWithin } from './helpers';

const PASSWORD = 'a long enough password';
const REFUSED = 'invalid credentials';

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};

/** A user with PASSWORD, or without a password when `password` is null. */
async function newUser(login: string, fields: UserFields = {}, password: string | null = PASSWORD): Promise<User> {
  const { user } = await api.users.createUser({
    fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: org.east, ...fields },
    audienceIds: [],
    password: password ?? undefined,
  });
  return user!;
}

const login = (name: string, password: string) => api.auth.createSession({ login: name, password });
const byToken = (token: string) => api.auth.authenticate({ token });
const byPassword = (name: string, password: string) => api.auth.authenticate({ loginPassword: { login: name, password } });

/** A calendar day relative to today (UTC), as "YYYY-MM-DD". */
function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

async function refusal(call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(
    (res) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(res)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

beforeAll(async () => {
  fixture = await startIdentityFixture('auth');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  for (const key of ['east', 'west']) {
    const { organisation } = await api.organisations.createOrganisation({ fields: { extId: key.toUpperCase(), label: key } });
    org[key] = organisation!.id;
  }
});

afterAll(() => fixture?.stop());

describe('bootstrap administrator', () => {
  it('exists, with the Administrator role on the root, and was published', async () => {
    const { user } = await api.users.getUser({ id: '', login: 'admin', extId: '' });
    expect(user).toMatchObject({ login: 'admin', organisationId: ROOT_ORGANISATION_ID, hasPassword: true });
    const { grants } = await api.roles.listRoleGrants({ userId: user!.id });
    expect(grants).toEqual([
      {
        userId: user!.id,
        roleId: ADMINISTRATOR_ROLE_ID,
        roleName: 'Administrator',
        organisationId: ROOT_ORGANISATION_ID,
        permissions: ['*'],
      },
    ]);
    const session = await login('admin', ADMIN.password);
    expect(session.principal).toEqual({ userId: user!.id, login: 'admin', grants, mustChangePassword: false });

    const events = await readStream(identity.bus, 'IDENTITY');
    const created = events.find((e) => e.subject === 'identity.user.created.v1' && UserChanged.fromJSON(e.data).user?.login === 'admin');
    expect(created).toBeDefined();
    const granted = events.filter((e) => e.subject === 'identity.role.granted.v1').map((e) => RoleGrantChanged.fromJSON(e.data).grant);
    expect(granted).toContainEqual(grants[0]);
  });
});

describe('sessions', () => {
  it('opens a session for good credentials: a token, its expiry and the principal with its grants', async () => {
    const user = await newUser('alice');
    const { role } = await api.roles.createRole({ name: 'Viewer', description: '', permissions: ['users:read', 'lists:read'] });
    await api.roles.grantRoles({ userIds: [user.id], roleIds: [role!.id], organisationId: org.east });

    const before = Date.now();
    const session = await login('ALICE', PASSWORD);
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    // The default session lasts 480 minutes.
    const ttl = Date.parse(session.expiresAt) - before;
    expect(ttl).toBeGreaterThan(479 * 60_000);
    expect(ttl).toBeLessThan(481 * 60_000);
    expect(session.principal).toEqual({
      userId: user.id,
      login: 'alice',
      mustChangePassword: false,
      grants: [
        { userId: user.id, roleId: role!.id, roleName: 'Viewer', organisationId: org.east, permissions: ['lists:read', 'users:read'] },
      ],
    });

    // The token authenticates, and only its hash is stored.
    expect((await byToken(session.token)).principal).toEqual(session.principal);
    const { rows } = await identity.db.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(session.token);
    expect((await api.users.getUser({ id: user.id, login: '', extId: '' })).user!.lastLoginAt).not.toBe('');
  });

  it('authenticates a login and password without a session', async () => {
    const user = await newUser('bruno');
    expect((await byPassword('bruno', PASSWORD)).principal).toEqual({
      userId: user.id,
      login: 'bruno',
      grants: [],
      mustChangePassword: false,
    });
  });

  it('refuses every bad credential with UNAUTHENTICATED and the same message', async () => {
    await newUser('carol');
    await newUser('dave', { disabled: true });
    await newUser('erin', { expirationDate: day(-1) });
    await newUser('frank', { activationDate: day(1) });
    const gina = await newUser('gina', {}, null);
    expect(gina.hasPassword).toBe(false);
    const attempts: [string, string][] = [
      ['carol', 'not the password'],
      ['carol', ''],
      ['nobody', PASSWORD],
      ['dave', PASSWORD],
      ['erin', PASSWORD],
      ['frank', PASSWORD],
      ['gina', PASSWORD],
      ['carol', 'x'.repeat(300)],
    ];
    for (const [name, password] of attempts) {
      for (const call of [byPassword(name, password), ...(password ? [login(name, password)] : [])]) {
        const err = await refusal(call);
        expect({ name, code: err.code, message: err.message, field: err.field }).toEqual({
          name,
          code: 'UNAUTHENTICATED',
          message: REFUSED,
          field: undefined,
        });
      }
    }
    const { rows } = await identity.db.query(
      `SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login IN ('carol', 'dave', 'erin', 'frank', 'gina')`,
    );
    expect(rows).toHaveLength(0);
  });

  it('lets users in within their activation and expiration dates', async () => {
    await newUser('hank', { activationDate: day(-30), expirationDate: day(30) });
    await newUser('iris', { activationDate: day(0), expirationDate: day(0) });
    expect((await login('hank', PASSWORD)).principal?.login).toBe('hank');
    expect((await login('iris', PASSWORD)).principal?.login).toBe('iris');
  });

  it('asks for a login and a password', async () => {
    await expect(login('', PASSWORD)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'login' });
    await expect(login('carol', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'password' });
    await expect(api.auth.authenticate({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'credential' });
  });

  it('ends a session with DeleteSession', async () => {
    await newUser('jack');
    const first = await login('jack', PASSWORD);
    const second = await login('jack', PASSWORD);
    await api.auth.deleteSession({ token: first.token });
    expect((await refusal(byToken(first.token))).message).toBe(REFUSED);
    expect((await byToken(second.token)).principal?.login).toBe('jack');
    await expect(byToken('not-a-token')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: REFUSED });
  });

  it('stops a token when its session expires or its user is disabled', async () => {
    const user = await newUser('kate');
    const expiring = await login('kate', PASSWORD);
    const other = await login('kate', PASSWORD);
    await identity.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND expires_at = $2`, [
      user.id,
      expiring.expiresAt,
    ]);
    await expect(byToken(expiring.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await byToken(other.token)).principal?.login).toBe('kate');
    await api.users.updateUser({ id: user.id, fields: { disabled: true } });
    await expect(byToken(other.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: REFUSED });
  });

  it('ends every session of a user whose password is set', async () => {
    const user = await newUser('liam');
    const session = await login('liam', PASSWORD);
    await api.users.setUserPassword({
      id: user.id,
      password: 'the new password',
      mustChangePassword: false,
    });
    await expect(byToken(session.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(login('liam', PASSWORD)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const fresh = await login('liam', 'the new password');
    expect((await byToken(fresh.token)).principal?.userId).toBe(user.id);
  });
});

describe('roles', () => {
  it('creates, changes and deletes roles, publishing each change', async () => {
    const created = await log.act(() =>
      api.roles.createRole({ name: 'Course editor', description: 'Edits', permissions: ['users:read', 'lists:write', 'users:read'] }),
    );
    const role = created.result.role!;
    expect(role).toMatchObject({ name: 'Course editor', description: 'Edits', permissions: ['lists:write', 'users:read'], builtIn: false });
    expect(subjects(created.events)).toEqual(['identity.role.created.v1']);
    expectEnvelopes(created.events, created.correlationId);
    expect(RoleChanged.fromJSON(created.events[0].data)).toEqual({ role });

    const updated = await log.act(() =>
      api.roles.updateRole({ id: role.id, name: 'Editor', permissions: ['*'], replacePermissions: true }),
    );
    expect(updated.result.role).toMatchObject({ name: 'Editor', description: 'Edits', permissions: ['*'] });
    expect(subjects(updated.events)).toEqual(['identity.role.updated.v1']);
    expectEnvelopes(updated.events, updated.correlationId);
    expect(RoleChanged.fromJSON(updated.events[0].data).role).toEqual(updated.result.role);
    // Without replacePermissions, the permissions stay.
    const renamed = await api.roles.updateRole({ id: role.id, description: 'Edits all', permissions: [], replacePermissions: false });
    expect(renamed.role).toMatchObject({ description: 'Edits all', permissions: ['*'] });

    const { roles, total } = await api.roles.listRoles({ query: 'EDIT', page: { limit: 10, offset: 0, after: '' } });
    expect({ names: roles.map((r) => r.name), total }).toEqual({ names: ['Editor'], total: 1 });

    const user = await newUser('editor');
    await api.roles.grantRoles({ userIds: [user.id], roleIds: [role.id], organisationId: org.east });
    const deleted = await log.act(() => api.roles.deleteRole({ id: role.id }));
    expectEnvelopes(deleted.events, deleted.correlationId);
    expect(subjects(deleted.events)).toEqual(['identity.role.revoked.v1', 'identity.role.deleted.v1']);
    expect(RoleGrantChanged.fromJSON(deleted.events[0].data).grant).toMatchObject({
      userId: user.id,
      roleId: role.id,
      organisationId: org.east,
    });
    expect(RoleDeleted.fromJSON(deleted.events[1].data)).toEqual({ id: role.id, name: 'Editor' });
    expect((await api.roles.listRoleGrants({ userId: user.id })).grants).toEqual([]);
    expect((await api.roles.listRoles({ query: 'editor', page: undefined })).total).toBe(0);
  });

  it('refuses an unknown permission, naming permissions[i]', async () => {
    const err = await log.refused(() =>
      api.roles.createRole({ name: 'Broken', description: '', permissions: ['users:read', 'users:fly'] }),
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'permissions[1]' });
    expect(err.message).toContain('users:fly');
    const { role } = await api.roles.createRole({ name: 'Fine', description: '', permissions: [] });
    expect(
      await log.refused(() =>
        api.roles.updateRole({ id: role!.id, permissions: ['lists:read', 'lists:read', 'teleport'], replacePermissions: true }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'permissions[2]' });
    expect((await api.roles.listRoles({ query: 'Broken', page: undefined })).total).toBe(0);
  });

  it('refuses a duplicate name, whatever its case', async () => {
    await api.roles.createRole({ name: 'Tutor', description: '', permissions: [] });
    expect(await log.refused(() => api.roles.createRole({ name: 'TUTOR', description: '', permissions: [] }))).toMatchObject({
      code: 'ALREADY_EXISTS',
      field: 'name',
    });
    expect(await log.refused(() => api.roles.createRole({ name: 'administrator', description: '', permissions: [] }))).toMatchObject({
      code: 'ALREADY_EXISTS',
      field: 'name',
    });
  });

  it('keeps the built-in Administrator as it is', async () => {
    expect(
      await log.refused(() =>
        api.roles.updateRole({ id: ADMINISTRATOR_ROLE_ID, name: 'Boss', permissions: [], replacePermissions: false }),
      ),
    ).toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    expect(
      await log.refused(() => api.roles.updateRole({ id: ADMINISTRATOR_ROLE_ID, permissions: ['users:read'], replacePermissions: true })),
    ).toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    expect(await log.refused(() => api.roles.deleteRole({ id: ADMINISTRATOR_ROLE_ID }))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    const { roles } = await api.roles.listRoles({ query: 'administrator', page: undefined });
    expect(roles).toEqual([
      { id: ADMINISTRATOR_ROLE_ID, name: 'Administrator', description: expect.any(String), permissions: ['*'], builtIn: true },
    ]);
    expect(await log.refused(() => api.roles.deleteRole({ id: UNKNOWN_ID }))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });
});

describe('grants', () => {
  it('grants roles to users on an organisation, and revokes them, publishing each grant', async () => {
    const [mia, noah] = [await newUser('mia'), await newUser('noah')];
    const { role: reader } = await api.roles.createRole({ name: 'Reader', description: '', permissions: ['users:read'] });
    const { role: writer } = await api.roles.createRole({ name: 'Writer', description: '', permissions: ['users:write'] });

    const granted = await log.act(() =>
      api.roles.grantRoles({ userIds: [mia.id, noah.id], roleIds: [reader!.id, writer!.id], organisationId: org.east }),
    );
    expect(granted.result.granted).toBe(4);
    expectEnvelopes(granted.events, granted.correlationId);
    expect(subjects(granted.events)).toEqual(Array(4).fill('identity.role.granted.v1'));
    const grants = granted.events.map((e) => RoleGrantChanged.fromJSON(e.data).grant!);
    expect(grants.map((g) => [g.userId, g.roleName, g.organisationId, g.permissions]).sort()).toEqual(
      [
        [mia.id, 'Reader', org.east, ['users:read']],
        [mia.id, 'Writer', org.east, ['users:write']],
        [noah.id, 'Reader', org.east, ['users:read']],
        [noah.id, 'Writer', org.east, ['users:write']],
      ].sort(),
    );

    const again = await log.act(() => api.roles.grantRoles({ userIds: [mia.id], roleIds: [reader!.id], organisationId: org.east }));
    expect(again.result.granted).toBe(0);
    expect(again.events).toEqual([]);
    // The same role on another organisation is another grant.
    const west = await log.act(() => api.roles.grantRoles({ userIds: [mia.id], roleIds: [reader!.id], organisationId: org.west }));
    expect(west.result.granted).toBe(1);

    const { grants: miaGrants } = await api.roles.listRoleGrants({ userId: mia.id });
    expect(miaGrants.map((g) => [g.roleName, g.organisationId])).toEqual(
      expect.arrayContaining([
        ['Reader', org.east],
        ['Reader', org.west],
        ['Writer', org.east],
      ]),
    );
    expect(miaGrants).toHaveLength(3);
    expect((await login('mia', PASSWORD)).principal?.grants).toEqual(miaGrants);

    const revoked = await log.act(() => api.roles.revokeRole({ userId: mia.id, roleId: reader!.id, organisationId: org.east }));
    expectEnvelopes(revoked.events, revoked.correlationId);
    expect(subjects(revoked.events)).toEqual(['identity.role.revoked.v1']);
    expect(RoleGrantChanged.fromJSON(revoked.events[0].data).grant).toEqual({
      userId: mia.id,
      roleId: reader!.id,
      roleName: 'Reader',
      organisationId: org.east,
      permissions: ['users:read'],
    });
    expect((await api.roles.listRoleGrants({ userId: mia.id })).grants.map((g) => [g.roleName, g.organisationId]).sort()).toEqual(
      [
        ['Reader', org.west],
        ['Writer', org.east],
      ].sort(),
    );
    expect(await log.refused(() => api.roles.revokeRole({ userId: mia.id, roleId: reader!.id, organisationId: org.east }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'roleId',
    });
  });

  it('grants only within the scope, and known roles', async () => {
    const olga = await newUser('olga');
    const westUser = await newUser('pete', { organisationId: org.west });
    const { role } = await api.roles.createRole({ name: 'Scoped', description: '', permissions: ['lists:read'] });
    const east = await actorWithin(fixture, [org.east]);
    expect(
      await log.refused(() => east.roles.grantRoles({ userIds: [olga.id], roleIds: [role!.id], organisationId: org.west })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'organisationId',
    });
    expect(
      await log.refused(() => east.roles.grantRoles({ userIds: [westUser.id], roleIds: [role!.id], organisationId: org.east })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'userIds',
    });
    expect(
      await log.refused(() => api.roles.grantRoles({ userIds: [olga.id], roleIds: [UNKNOWN_ID], organisationId: org.east })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'roleIds[0]',
    });
    expect(await log.refused(() => api.roles.grantRoles({ userIds: [olga.id], roleIds: [], organisationId: org.east }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'roleIds',
    });
    await expect(east.roles.listRoleGrants({ userId: westUser.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await api.roles.listRoleGrants({ userId: olga.id })).grants).toEqual([]);
  });
});

describe('restart', () => {
  it('keeps the bootstrap administrator as it is, password included', async () => {
    const { user: admin } = await api.users.getUser({ id: '', login: 'admin', extId: '' });
    await api.users.setUserPassword({
      id: admin!.id,
      password: 'changed by the admin',
      mustChangePassword: false,
    });
    await identity.flushEvents();
    const published = (await readStream(identity.bus, 'IDENTITY')).length;

    await fixture.restart();
    ({ identity, api } = fixture);
    log = new EventLog(identity, 'IDENTITY');

    expect((await login('admin', 'changed by the admin')).principal?.userId).toBe(admin!.id);
    await expect(login('admin', ADMIN.password)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const { rows } = await identity.db.query(`SELECT id FROM users WHERE lower(login) = 'admin'`);
    expect(rows).toEqual([{ id: admin!.id }]);
    expect((await api.roles.listRoleGrants({ userId: admin!.id })).grants).toHaveLength(1);
    // The restart published nothing (no second administrator, no second grant).
    await identity.flushEvents();
    expect((await readStream(identity.bus, 'IDENTITY')).length).toBe(published);
  });
});

describe('login throttling', () => {
  it('refuses a login that failed too often, even with the right password, until its window ends', async () => {
    const user = await newUser('throttled');
    for (let i = 0; i < 10; i++) expect((await refusal(login('throttled', 'a wrong guess'))).code).toBe('UNAUTHENTICATED');
    const blocked = await refusal(login('throttled', PASSWORD));
    expect(blocked.code).toBe('RESOURCE_EXHAUSTED');
    expect(blocked.message).toMatch(/too many failed logins for this login: try again after \d{4}-/);
    expect((await refusal(byPassword('THROTTLED', PASSWORD))).code).toBe('RESOURCE_EXHAUSTED');

    // Other logins go on; unknown ones are counted alike, so the answer tells nothing.
    const other = await newUser('not-throttled');
    expect((await login('not-throttled', PASSWORD)).principal?.userId).toBe(other.id);
    for (let i = 0; i < 10; i++) await refusal(login('nobody-here', 'a wrong guess'));
    expect((await refusal(login('nobody-here', 'another guess'))).code).toBe('RESOURCE_EXHAUSTED');

    // Once the window is over, the right password works, and a success clears the count.
    await identity.db.query(`UPDATE login_failures SET window_started_at = now() - interval '16 minutes' WHERE login_key = 'throttled'`);
    expect((await login('throttled', PASSWORD)).principal?.userId).toBe(user.id);
    expect((await identity.db.query(`SELECT * FROM login_failures WHERE login_key = 'throttled'`)).rows).toEqual([]);
  });
});

describe('acting user and service credentials', () => {
  it('refuses a call with no acting user, or one that may not log in', async () => {
    expect(await refusal(fixture.client.users.getUser({ id: fixture.adminId, login: '', extId: '' }))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'this call needs an acting user',
    });
    const gone = await newUser('gone-actor', { disabled: true });
    expect((await refusal(fixture.as(gone.id).users.getUser({ id: fixture.adminId, login: '', extId: '' }))).code).toBe('UNAUTHENTICATED');
    expect((await refusal(fixture.as(UNKNOWN_ID).users.getUser({ id: fixture.adminId, login: '', extId: '' }))).code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses every call without the service token', async () => {
    const intruder = identityClient(identity.address, { security: { serviceToken: 'not the token, but long enough to look like one' } });
    try {
      for (const call of [
        () => intruder.auth.authenticate({ loginPassword: { login: 'admin', password: ADMIN.password } }),
        () => intruder.auth.getPrincipal({ userId: fixture.adminId }),
        () => actingAs(intruder, fixture.adminId).users.deleteUser({ id: fixture.adminId }),
      ]) {
        expect(await call().catch((e: unknown) => e)).toMatchObject({ code: 16, details: 'service credentials required' });
      }
    } finally {
      intruder.close();
    }
    expect((await api.users.getUser({ id: fixture.adminId, login: '', extId: '' })).user?.login).toBe('admin');
  });

  it('gives other services the principal of a user', async () => {
    const { principal } = await fixture.client.auth.getPrincipal({ userId: fixture.adminId });
    expect(principal).toMatchObject({ userId: fixture.adminId, login: 'admin', mustChangePassword: false });
    expect(principal!.grants.map((g) => [g.roleId, g.organisationId])).toEqual([[ADMINISTRATOR_ROLE_ID, ROOT_ORGANISATION_ID]]);
  });
});

describe('permissions', () => {
  it('lists those of identity and the kit, and those other services register', async () => {
    const names = async () => (await fixture.client.roles.listPermissions({})).permissions;
    expect((await names()).find((p) => p.name === 'users:read')).toMatchObject({ service: 'identity', rootOnly: false });
    expect((await names()).find((p) => p.name === 'events:manage')).toMatchObject({ service: 'identity', rootOnly: true });

    await fixture.client.roles.registerPermissions({
      service: 'catalog',
      permissions: [{ name: 'courses:write', description: 'change courses', service: '', rootOnly: false }],
    });
    expect((await names()).find((p) => p.name === 'courses:write')).toMatchObject({ service: 'catalog', description: 'change courses' });
    const { role } = await api.roles.createRole({ name: 'Course editor', description: '', permissions: ['courses:write'] });
    expect(role?.permissions).toEqual(['courses:write']);
    expect(
      await refusal(api.roles.createRole({ name: 'Typo', description: '', permissions: ['users:read', 'courses:wirte'] })),
    ).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'permissions[1]',
    });
    expect(
      await refusal(
        fixture.client.roles.registerPermissions({
          service: 'catalog',
          permissions: [{ name: 'Courses Write', description: '', service: '', rootOnly: false }],
        }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'permissions[0].name' });
  });

  it('lets only whoever holds a permission everywhere put it in a role', async () => {
    const roleWriter = await actorWithin(fixture, [ROOT_ORGANISATION_ID], ['roles:write', 'users:read']);
    const { role } = await roleWriter.roles.createRole({ name: 'Readers', description: '', permissions: ['users:read'] });
    for (const permissions of [['*'], ['users:read', 'users:write']]) {
      expect(await log.refused(() => roleWriter.roles.createRole({ name: 'Stronger', description: '', permissions }))).toMatchObject({
        code: 'PERMISSION_DENIED',
        field: 'permissions',
      });
    }
    expect(
      await log.refused(() => roleWriter.roles.updateRole({ id: role!.id, permissions: ['users:read', '*'], replacePermissions: true })),
    ).toMatchObject({ code: 'PERMISSION_DENIED', message: 'you cannot put * in a role: you do not hold it on the root organisation' });
    // Taking a permission out is always allowed.
    expect((await roleWriter.roles.updateRole({ id: role!.id, permissions: [], replacePermissions: true })).role?.permissions).toEqual([]);
  });
});
