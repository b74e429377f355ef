import type { EventEnvelope } from '@assistants/kit';
import { Outcome, type BatchResult, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { ListChanged, ListMembershipChanged, RoleGrantChanged, UserChanged } from '@assistants/proto/gen/identity/v1/events';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { actorWithin, ADMINISTRATOR_ROLE_ID, DEFAULT_FOLDER_ID, EventLog, filter, subjects, UNKNOWN_ID } from './helpers';

/** The user assistant's batches on identity (U1-U5, U18): rows, events, idempotency, dry
 * runs, scope. */

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};
const audience: Record<string, string> = {};
let keys = 0;

/** A header with a fresh idempotency key. */
const header = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `test:${++keys}`, dryRun });

async function newUser(login: string, fields: UserFields = {}): Promise<User> {
  const { user } = await api.users.createUser({
    fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: org.north, ...fields },
    audienceIds: [],
  });
  return user!;
}

async function newUsers(prefix: string, n: number, fields: UserFields = {}): Promise<User[]> {
  const users: User[] = [];
  for (let i = 1; i <= n; i++) users.push(await newUser(`${prefix}-${i}`, fields));
  return users;
}

const row = async (id: string) => (await identity.db.query('SELECT * FROM users WHERE id = $1', [id])).rows[0];

/** [item, outcome, code] of each result. */
const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r: ItemResult) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code]);

/** The identity.user.updated.v1 events: [user id, changed fields], by user id. */
const updates = (events: EventEnvelope[]) =>
  events
    .filter((e) => e.subject === 'identity.user.updated.v1')
    .map((e) => UserChanged.fromJSON(e.data))
    .map((c) => [c.user!.id, c.changedFields] as [string, string[]])
    .sort(([a], [b]) => a.localeCompare(b));

/** Pairs sorted by their first element, as updates() gives them. */
const byId = (pairs: [string, string[]][]) => [...pairs].sort(([a], [b]) => a.localeCompare(b));

const entered = (events: EventEnvelope[], listId: string) =>
  events
    .filter((e) => e.subject === 'identity.list-member.entered.v1')
    .map((e) => ListMembershipChanged.fromJSON(e.data))
    .filter((m) => m.listId === listId)
    .map((m) => m.userId)
    .sort();

beforeAll(async () => {
  fixture = await startIdentityFixture('user_actions');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  for (const [key, parent] of [
    ['north', ''],
    ['lille', 'north'],
    ['south', ''],
  ]) {
    const { organisation } = await api.organisations.createOrganisation({
      fields: { extId: key.toUpperCase(), label: key, parentId: parent ? org[parent] : undefined },
    });
    org[key] = organisation!.id;
  }
  for (const name of ['Sellers', 'Buyers']) {
    audience[name] = (await api.audiences.createAudience({ name, description: '' })).audience!.id;
  }
});

afterAll(() => fixture?.stop());

describe('U1 ModifyUsers', () => {
  it('sets the values given on every user, one updated event each naming what changed for it', async () => {
    const [ann, bob, cat] = await newUsers('u1-set', 3);
    await api.users.updateUser({ id: bob.id, fields: { custom2: 'gold', twoFactor: 'always' } });
    const { list } = await api.lists.createList({
      ownerOrganisationId: '',
      name: 'U1 gold',
      description: '',
      type: 'dynamic',
      folderId: '',
      criteria: filter({ custom2: 'gold' }),
      memberIds: [],
    });

    const { result, events } = await log.act(() =>
      api.userActions.modifyUsers({
        batch: header(),
        userIds: [ann.id, bob.id, cat.id],
        custom2: 'gold',
        twoFactor: 'always',
        activationDate: '2020-01-01',
      }),
    );
    expect(outcomes(result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'SUCCEEDED', ''],
      [cat.id, 'SUCCEEDED', ''],
    ]);
    for (const user of [ann, bob, cat]) {
      expect(await row(user.id)).toMatchObject({ custom2: 'gold', two_factor: 'always', activation_date: '2020-01-01' });
    }
    expect(updates(events)).toEqual(
      byId([
        [ann.id, ['activation_date', 'custom2', 'two_factor']],
        [bob.id, ['activation_date']],
        [cat.id, ['activation_date', 'custom2', 'two_factor']],
      ]),
    );
    // Dynamic lists follow, once for the batch: ann and cat now match.
    expect(entered(events, list!.id)).toEqual([ann.id, cat.id].sort());
    expect(events).toHaveLength(5);

    // Again: nothing to change.
    const again = await log.act(() =>
      api.userActions.modifyUsers({ batch: header(), userIds: [ann.id, bob.id], custom2: 'gold', twoFactor: 'always' }),
    );
    expect(outcomes(again.result.result)).toEqual([
      [ann.id, 'UNCHANGED', 'ALREADY_SET'],
      [bob.id, 'UNCHANGED', 'ALREADY_SET'],
    ]);
    expect(again.events).toEqual([]);
  });

  it('clears dates and custom fields with "", and leaves absent fields as they are', async () => {
    const user = await newUser('u1-clear', {
      activationDate: '2020-01-01',
      expirationDate: '2099-01-01',
      custom1: 'one',
      custom10: 'ten',
      disabled: true,
    });
    const { result, events } = await log.act(() =>
      api.userActions.modifyUsers({ batch: header(), userIds: [user.id], expirationDate: '', custom10: '', disabled: false }),
    );
    expect(outcomes(result.result)).toEqual([[user.id, 'SUCCEEDED', '']]);
    expect(await row(user.id)).toMatchObject({
      activation_date: '2020-01-01',
      expiration_date: null,
      custom1: 'one',
      custom10: '',
      disabled: false,
      two_factor: 'default',
    });
    expect(updates(events)).toEqual([[user.id, ['disabled', 'expiration_date', 'custom10']]]);
  });

  it('refuses bad parameters before any item, naming the field', async () => {
    const user = await newUser('u1-bad');
    const refused = (req: Parameters<IdentityClient['userActions']['modifyUsers']>[0]) =>
      log.refused(() => api.userActions.modifyUsers({ ...req, batch: header(true) }));
    expect(await refused({ userIds: [], activationDate: '2030-01-01', expirationDate: '2029-12-31' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'expirationDate',
    });
    expect(await refused({ userIds: [user.id], activationDate: '2030-02-30' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'activationDate',
    });
    expect(await refused({ userIds: [user.id], twoFactor: 'sometimes' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'twoFactor' });
    expect(await refused({ userIds: [user.id], custom4: 'x'.repeat(256) })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'custom4' });
    expect(await refused({ userIds: [user.id] })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A real batch needs its key.
    expect(
      await log.refused(() =>
        api.userActions.modifyUsers({ batch: { idempotencyKey: '', dryRun: false }, userIds: [user.id], custom1: 'x' }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'batch.idempotency_key' });
    expect(await row(user.id)).toMatchObject({ custom1: '' });
  });

  it('fails, per user, an expiration before that user’s activation date', async () => {
    const early = await newUser('u1-early', { activationDate: '2020-01-01' });
    const late = await newUser('u1-late', { activationDate: '2031-01-01' });
    const { result } = await api.userActions.modifyUsers({ batch: header(), userIds: [early.id, late.id], expirationDate: '2030-06-30' });
    expect(outcomes(result)).toEqual([
      [early.id, 'SUCCEEDED', ''],
      [late.id, 'FAILED', 'EXPIRATION_BEFORE_ACTIVATION'],
    ]);
    expect((await row(late.id)).expiration_date).toBeNull();
  });

  it('applies a repeated idempotency key once, and answers the recorded results', async () => {
    const [ann, bob] = await newUsers('u1-once', 2);
    const batch = header();
    const request = { batch, userIds: [ann.id, bob.id, UNKNOWN_ID], custom7: 'once' };
    const first = await log.act(() => api.userActions.modifyUsers(request));
    expect(first.result.result!.replayed).toBe(false);
    expect(first.events).toHaveLength(2);
    const updatedAt = (await row(ann.id)).updated_at;

    const second = await log.act(() => api.userActions.modifyUsers(request));
    expect(second.result.result).toEqual({ ...first.result.result, replayed: true });
    expect(second.events).toEqual([]);
    expect((await row(ann.id)).updated_at).toEqual(updatedAt);
    const { rows } = await identity.db.query('SELECT count(*)::int AS n FROM kit_batches WHERE idempotency_key = $1', [
      batch.idempotencyKey,
    ]);
    expect(rows[0].n).toBe(1);

    // The same key for another request is refused rather than answered wrongly.
    expect(await log.refused(() => api.userActions.modifyUsers({ ...request, custom7: 'twice' }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
  });

  it('answers a dry run with what would happen, writing and publishing nothing', async () => {
    const [ann, bob] = await newUsers('u1-dry', 2);
    await api.users.updateUser({ id: bob.id, fields: { custom8: 'dry' } });
    const before = await identity.db.query('SELECT count(*)::int AS n FROM kit_batches');
    const { result, events } = await log.act(() =>
      api.userActions.modifyUsers({ batch: header(true), userIds: [ann.id, bob.id, UNKNOWN_ID], custom8: 'dry' }),
    );
    expect(outcomes(result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'UNCHANGED', 'ALREADY_SET'],
      [UNKNOWN_ID, 'FAILED', 'NOT_FOUND'],
    ]);
    expect(events).toEqual([]);
    expect((await row(ann.id)).custom8).toBe('');
    expect((await identity.db.query('SELECT count(*)::int AS n FROM kit_batches')).rows[0].n).toBe(before.rows[0].n);
  });

  it('leaves a scoped administrator’s users outside its scope untouched: OUT_OF_SCOPE, per user', async () => {
    const inside = await newUser('u1-inside', { organisationId: org.lille });
    const outside = await newUser('u1-outside', { organisationId: org.south });
    const stronger = await newUser('u1-stronger', { organisationId: org.lille });
    await api.roles.grantRoles({ userIds: [stronger.id], roleIds: [ADMINISTRATOR_ROLE_ID], organisationId: org.south });
    const external = await newUser('u1-external', { organisationId: org.lille, externallyManaged: true });
    const scoped = await actorWithin(fixture, [org.north], ['users:write']);

    const { result, events } = await log.act(() =>
      scoped.userActions.modifyUsers({
        batch: header(),
        userIds: [outside.id, inside.id, 'not-an-id', stronger.id, external.id],
        custom9: 'scoped',
      }),
    );
    expect(outcomes(result.result)).toEqual([
      [outside.id, 'FAILED', 'OUT_OF_SCOPE'],
      [inside.id, 'SUCCEEDED', ''],
      ['not-an-id', 'FAILED', 'NOT_FOUND'],
      [stronger.id, 'FAILED', 'USER_HOLDS_MORE_RIGHTS'],
      [external.id, 'FAILED', 'EXTERNALLY_MANAGED'],
    ]);
    expect(updates(events)).toEqual([[inside.id, ['custom9']]]);
    for (const user of [outside, stronger, external]) expect((await row(user.id)).custom9).toBe('');
    expect((await row(inside.id)).custom9).toBe('scoped');

    // A permission held nowhere: refused as a whole.
    const reader = await actorWithin(fixture, [org.north], ['users:read']);
    expect(await log.refused(() => reader.userActions.modifyUsers({ batch: header(), userIds: [inside.id], custom9: 'x' }))).toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });
});

describe('U2 AddUsersAudiences', () => {
  it('adds the audiences, one updated event per user that gained one; dynamic lists follow', async () => {
    const [ann, bob] = await newUsers('u2-add', 2);
    await api.users.addUserAudiences({ userIds: [bob.id], audienceIds: [audience.Sellers, audience.Buyers] });
    const { list } = await api.lists.createList({
      ownerOrganisationId: '',
      name: 'U2 buyers',
      description: '',
      type: 'dynamic',
      folderId: '',
      criteria: filter({ audience: 'buyers', lastName: 'U2-ADD' }),
      memberIds: [],
    });
    const { result, events } = await log.act(() =>
      api.userActions.addUsersAudiences({ batch: header(), userIds: [ann.id, bob.id], audienceIds: [audience.Sellers, audience.Buyers] }),
    );
    expect(outcomes(result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'UNCHANGED', 'ALREADY_SET'],
    ]);
    const { rows } = await identity.db.query('SELECT audience_id FROM user_audiences WHERE user_id = $1 ORDER BY audience_id', [ann.id]);
    expect(rows.map((r) => r.audience_id)).toEqual([audience.Sellers, audience.Buyers].sort());
    expect(updates(events)).toEqual([[ann.id, ['audiences']]]);
    expect(entered(events, list!.id)).toEqual([ann.id]);
  });

  it('refuses an unknown audience, naming it, before any item', async () => {
    const user = await newUser('u2-bad');
    expect(
      await log.refused(() =>
        api.userActions.addUsersAudiences({ batch: header(), userIds: [user.id], audienceIds: [audience.Sellers, UNKNOWN_ID] }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'audienceIds[1]' });
    expect(await log.refused(() => api.userActions.addUsersAudiences({ batch: header(true), userIds: [], audienceIds: [] }))).toMatchObject(
      { code: 'INVALID_ARGUMENT', field: 'audienceIds' },
    );
  });

  it('leaves users outside the caller’s scope without the audience', async () => {
    const inside = await newUser('u2-inside');
    const outside = await newUser('u2-outside', { organisationId: org.south });
    const scoped = await actorWithin(fixture, [org.north], ['users:write']);
    const { result } = await scoped.userActions.addUsersAudiences({
      batch: header(),
      userIds: [inside.id, outside.id],
      audienceIds: [audience.Sellers],
    });
    expect(outcomes(result)).toEqual([
      [inside.id, 'SUCCEEDED', ''],
      [outside.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    const { rows } = await identity.db.query('SELECT user_id FROM user_audiences WHERE user_id = ANY($1)', [[inside.id, outside.id]]);
    expect(rows.map((r) => r.user_id)).toEqual([inside.id]);
  });
});

describe('U3 AddUsersRoles', () => {
  let tutor: string;
  let reporter: string;

  beforeAll(async () => {
    tutor = (await api.roles.createRole({ name: 'U3 tutor', description: '', permissions: ['users:read'] })).role!.id;
    reporter = (await api.roles.createRole({ name: 'U3 reporter', description: '', permissions: ['lists:read'] })).role!.id;
  });

  const grants = async (userIds: string[]) =>
    (
      await identity.db.query(
        'SELECT user_id, role_id, organisation_id FROM role_grants WHERE user_id = ANY($1) ORDER BY user_id, role_id',
        [userIds],
      )
    ).rows.map((r) => [r.user_id, r.role_id, r.organisation_id]);

  it('grants every role on the organisation to every user, one granted event per new grant', async () => {
    const [ann, bob] = await newUsers('u3-grant', 2);
    await api.roles.grantRoles({ userIds: [bob.id], roleIds: [tutor, reporter], organisationId: org.lille });
    const { result, events } = await log.act(() =>
      api.userActions.addUsersRoles({ batch: header(), userIds: [ann.id, bob.id], roleIds: [tutor, reporter], organisationId: org.lille }),
    );
    expect(outcomes(result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'UNCHANGED', 'ALREADY_SET'],
    ]);
    expect(await grants([ann.id])).toEqual([tutor, reporter].sort().map((role) => [ann.id, role, org.lille]));
    expect(subjects(events)).toEqual(['identity.role.granted.v1', 'identity.role.granted.v1']);
    expect(events.map((e) => RoleGrantChanged.fromJSON(e.data).grant).map((g) => [g!.userId, g!.roleName, g!.organisationId])).toEqual([
      [ann.id, 'U3 reporter', org.lille],
      [ann.id, 'U3 tutor', org.lille],
    ]);
  });

  it('refuses to give more than the caller holds on that organisation, or an organisation outside its scope', async () => {
    const user = await newUser('u3-escalate');
    // Holds users:read and roles:grant on north, not lists:read.
    const scoped = await actorWithin(fixture, [org.north], ['users:read', 'roles:grant']);
    expect(
      await log.refused(() =>
        scoped.userActions.addUsersRoles({ batch: header(true), userIds: [], roleIds: [tutor, reporter], organisationId: org.lille }),
      ),
    ).toMatchObject({ code: 'PERMISSION_DENIED', field: 'roleIds[1]' });
    expect(
      await log.refused(() =>
        scoped.userActions.addUsersRoles({
          batch: header(),
          userIds: [user.id],
          roleIds: [ADMINISTRATOR_ROLE_ID],
          organisationId: org.north,
        }),
      ),
    ).toMatchObject({ code: 'PERMISSION_DENIED', field: 'roleIds[0]' });
    expect(
      await log.refused(() =>
        scoped.userActions.addUsersRoles({ batch: header(), userIds: [user.id], roleIds: [tutor], organisationId: org.south }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'organisationId' });
    expect(
      await log.refused(() =>
        api.userActions.addUsersRoles({ batch: header(), userIds: [user.id], roleIds: [UNKNOWN_ID], organisationId: org.north }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'roleIds[0]' });
    expect(await grants([user.id])).toEqual([]);

    // What it holds, it gives; to its own users only.
    const outside = await newUser('u3-outside', { organisationId: org.south });
    const { result } = await scoped.userActions.addUsersRoles({
      batch: header(),
      userIds: [user.id, outside.id],
      roleIds: [tutor],
      organisationId: org.lille,
    });
    expect(outcomes(result)).toEqual([
      [user.id, 'SUCCEEDED', ''],
      [outside.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    expect(await grants([user.id, outside.id])).toEqual([[user.id, tutor, org.lille]]);
  });
});

describe('U4 SetUsersManager and U5 SetUsersSecondaryManager', () => {
  it('makes one user the manager of every selected user but itself', async () => {
    const boss = await newUser('u4-boss');
    const [ann, bob] = await newUsers('u4-report', 2);
    await api.users.updateUser({ id: bob.id, fields: { managerId: boss.id } });
    const { result, events } = await log.act(() =>
      api.userActions.setUsersManager({ batch: header(), userIds: [ann.id, bob.id, boss.id], managerId: boss.id }),
    );
    expect(outcomes(result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'UNCHANGED', 'ALREADY_SET'],
      [boss.id, 'FAILED', 'OWN_MANAGER'],
    ]);
    expect(await row(ann.id)).toMatchObject({ manager_id: boss.id, secondary_manager_id: null });
    expect((await row(boss.id)).manager_id).toBeNull();
    expect(updates(events)).toEqual([[ann.id, ['manager_id']]]);

    const secondary = await log.act(() =>
      api.userActions.setUsersSecondaryManager({ batch: header(), userIds: [ann.id, bob.id], managerId: boss.id }),
    );
    expect(outcomes(secondary.result.result)).toEqual([
      [ann.id, 'SUCCEEDED', ''],
      [bob.id, 'SUCCEEDED', ''],
    ]);
    expect(await row(bob.id)).toMatchObject({ manager_id: boss.id, secondary_manager_id: boss.id });
    expect(updates(secondary.events)).toEqual(
      byId([
        [ann.id, ['secondary_manager_id']],
        [bob.id, ['secondary_manager_id']],
      ]),
    );
  });

  it('refuses a manager that does not exist or that the caller does not see; scoped users stay untouched', async () => {
    const inside = await newUser('u4-inside');
    const outside = await newUser('u4-outside', { organisationId: org.south });
    const southBoss = await newUser('u4-south-boss', { organisationId: org.south });
    const northBoss = await newUser('u4-north-boss', { organisationId: org.lille });
    const scoped = await actorWithin(fixture, [org.north], ['users:write']);
    for (const managerId of [UNKNOWN_ID, southBoss.id, 'nobody']) {
      expect(await log.refused(() => scoped.userActions.setUsersManager({ batch: header(true), userIds: [], managerId }))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'managerId',
      });
    }
    const { result } = await scoped.userActions.setUsersSecondaryManager({
      batch: header(),
      userIds: [inside.id, outside.id],
      managerId: northBoss.id,
    });
    expect(outcomes(result)).toEqual([
      [inside.id, 'SUCCEEDED', ''],
      [outside.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    expect((await row(outside.id)).secondary_manager_id).toBeNull();
  });
});

describe('U18 SaveUsersAsList', () => {
  const save = (as: IdentityClient, listKey: string, userIds: string[], batch = header(), name = 'U18 saved') =>
    as.userActions.saveUsersAsList({ batch, userIds, name, description: 'from a run', folderId: '', ownerOrganisationId: '', listKey });

  it('makes one static list of a run’s batches, sent in any order and twice', async () => {
    const users = await newUsers('u18-run', 6);
    const ids = users.map((u) => u.id);
    const batches = [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)].map((userIds, n) => ({
      userIds,
      batch: { idempotencyKey: `run:r18:${n + 1}`, dryRun: false },
    }));
    const { events, result } = await log.act(async () => {
      const answers = [];
      for (const b of [batches[2], batches[0], batches[2], batches[1], batches[0]]) {
        answers.push(await save(api, 'r18', b.userIds, b.batch));
      }
      return answers;
    });
    expect(result.map((a) => a.result!.replayed)).toEqual([false, false, true, false, true]);
    const listId = result[0].listId;
    expect(result.map((a) => a.listId)).toEqual(Array(5).fill(listId));
    expect(result.flatMap((a) => outcomes(a.result).map(([, outcome]) => outcome))).toEqual(Array(10).fill('SUCCEEDED'));

    const { rows } = await identity.db.query('SELECT * FROM lists WHERE list_key = $1', ['r18']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: listId,
      name: 'U18 saved',
      description: 'from a run',
      type: 'static',
      folder_id: DEFAULT_FOLDER_ID,
    });
    const { members, total } = await api.lists.listListMembers({ listId, page: undefined });
    expect(total).toBe(6);
    expect(members.map((m) => m.userId)).toEqual([...ids].sort());
    expect(subjects(events).filter((s) => s === 'identity.list.created.v1')).toHaveLength(1);
    expect(ListChanged.fromJSON(events[0].data).list).toMatchObject({ id: listId, type: 'static' });
    expect(entered(events, listId)).toEqual([...ids].sort());
    expect(events).toHaveLength(7);
  });

  it('makes one list of concurrent first batches', async () => {
    const users = await newUsers('u18-race', 8);
    const answers = await Promise.all(
      users.map((u, n) => save(api, 'race', [u.id], { idempotencyKey: `run:race:${n}`, dryRun: false }, 'U18 race')),
    );
    expect(new Set(answers.map((a) => a.listId)).size).toBe(1);
    const { rows } = await identity.db.query('SELECT count(*)::int AS n FROM list_members WHERE list_id = $1', [answers[0].listId]);
    expect(rows[0].n).toBe(8);
  });

  it('refuses a name another list has, in a dry run with no items; a dry run makes no list', async () => {
    const user = await newUser('u18-dry');
    await api.lists.createList({
      ownerOrganisationId: '',
      name: 'U18 taken',
      description: '',
      type: 'static',
      folderId: '',
      memberIds: [],
    });
    expect(await log.refused(() => save(api, '', [], header(true), 'u18 TAKEN'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'name',
    });
    expect(await log.refused(() => save(api, 'taken', [user.id], header(), 'U18 taken'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'name',
    });
    expect(await log.refused(() => save(api, '', [], header(true), ' '))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    expect(await log.refused(() => save(api, '', [user.id], header(), 'U18 new'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'listKey',
    });

    const dry = await log.act(() => save(api, 'dry', [user.id, UNKNOWN_ID], header(true), 'U18 dry'));
    expect(outcomes(dry.result.result)).toEqual([
      [user.id, 'SUCCEEDED', ''],
      [UNKNOWN_ID, 'FAILED', 'NOT_FOUND'],
    ]);
    expect(dry.result.listId).toBe('');
    expect(dry.events).toEqual([]);
    expect((await identity.db.query("SELECT 1 FROM lists WHERE name = 'U18 dry'")).rows).toEqual([]);
  });

  it('adds only users of the caller’s scope', async () => {
    const inside = await newUser('u18-inside', { organisationId: org.lille });
    const outside = await newUser('u18-outside', { organisationId: org.south });
    const scoped = await actorWithin(fixture, [org.north], ['users:read', 'lists:write']);
    const { result, listId } = await save(scoped, 'scoped', [inside.id, outside.id], header(), 'U18 scoped');
    expect(outcomes(result)).toEqual([
      [inside.id, 'SUCCEEDED', ''],
      [outside.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    const { rows } = await identity.db.query('SELECT user_id FROM list_members WHERE list_id = $1', [listId]);
    expect(rows.map((r) => r.user_id)).toEqual([inside.id]);
    expect((await api.lists.getList({ id: listId })).list).toMatchObject({ ownerOrganisationId: org.north, memberCount: 1 });
  });
});
