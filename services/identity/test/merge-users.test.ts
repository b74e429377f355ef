import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { actorWithin, ADMINISTRATOR_ROLE_ID, EventLog, ROOT_ORGANISATION_ID, subjects } from './helpers';

/** M1's identity steps: MergeUserMemberships and DeleteMergedUser — memberships, events,
 * scope, users with more rights, idempotency, dry run. The whole merge is tested through the
 * gateway (gateway/test/merges.test.ts). */

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};
let n = 0;

const header = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `merge-test:${++n}`, dryRun });

beforeAll(async () => {
  fixture = await startIdentityFixture('merge_users');
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
});

afterAll(() => fixture?.stop());

async function newUser(organisationId = org.north): Promise<string> {
  const login = `merge-user-${++n}`;
  const { user } = await api.users.createUser({ fields: { login, lastName: login, firstName: 'M', organisationId }, audienceIds: [] });
  return user!.id;
}

async function newList(memberIds: string[]): Promise<string> {
  const { list } = await api.lists.createList({
    name: `merge list ${++n}`,
    description: '',
    type: 'static',
    folderId: '',
    memberIds,
    ownerOrganisationId: '',
  });
  return list!.id;
}

const memberships = async (userId: string) =>
  (
    await identity.db.query<{ list_id: string; entered_at: Date }>(
      'SELECT list_id, entered_at FROM list_members WHERE user_id = $1 ORDER BY list_id',
      [userId],
    )
  ).rows;
const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code]);

async function refused(fn: () => Promise<unknown>): Promise<[string, string | undefined]> {
  const err = await log.refused(fn);
  return [err.code, err.field];
}

it('moves static list memberships, keeping the earlier entry date, then deletes the user, each once per key', async () => {
  const [z, a] = [await newUser(), await newUser()];
  const onlyZ = await newList([z]);
  const both = await newList([a, z]);
  await identity.db.query(`UPDATE list_members SET entered_at = '2026-01-01T00:00:00Z' WHERE list_id = $1 AND user_id = $2`, [both, z]);

  const dry = await api.userActions.mergeUserMemberships({ batch: header(true), fromUserId: z, toUserId: a });
  expect(outcomes(dry.result).sort()).toEqual(
    [
      [onlyZ, 'SUCCEEDED', ''],
      [both, 'UNCHANGED', 'ALREADY_MEMBER'],
    ].sort(),
  );
  expect((await memberships(z)).length).toBe(2);

  const batch = header();
  const { result, events } = await log.act(() => api.userActions.mergeUserMemberships({ batch, fromUserId: z, toUserId: a }));
  expect(outcomes(result.result)).toEqual(outcomes(dry.result));
  expect(await memberships(z)).toEqual([]);
  const kept = new Map((await memberships(a)).map((r) => [r.list_id, r.entered_at.toISOString()]));
  expect([...kept.keys()].sort()).toEqual([onlyZ, both].sort());
  expect(kept.get(both)).toBe('2026-01-01T00:00:00.000Z');
  expect(subjects(events).sort()).toEqual([
    'identity.list-member.entered.v1',
    'identity.list-member.left.v1',
    'identity.list-member.left.v1',
  ]);
  const replay = await log.act(() => api.userActions.mergeUserMemberships({ batch, fromUserId: z, toUserId: a }));
  expect(replay.result.result!.replayed).toBe(true);
  expect(replay.events).toEqual([]);

  const deletion = header();
  const deleted = await log.act(() => api.userActions.deleteMergedUser({ batch: deletion, fromUserId: z, toUserId: a }));
  expect(outcomes(deleted.result.result)).toEqual([[z, 'SUCCEEDED', '']]);
  expect(subjects(deleted.events)).toContain('identity.user.deleted.v1');
  // Sent again (its answer lost): the recorded result, though the user is gone.
  const again = await api.userActions.deleteMergedUser({ batch: deletion, fromUserId: z, toUserId: a });
  expect(again.result!.replayed).toBe(true);
  expect(outcomes(again.result)).toEqual([[z, 'SUCCEEDED', '']]);
});

it('refuses a scoped administrator a user outside its scope or holding more rights, on both steps', async () => {
  const scoped = await actorWithin(fixture, [org.lille], ['users:read', 'users:write']);
  const [inside, kept] = [await newUser(org.lille), await newUser(org.lille)];
  const outside = await newUser(org.south);
  const stronger = await newUser(org.lille);
  await api.roles.grantRoles({ userIds: [stronger], roleIds: [ADMINISTRATOR_ROLE_ID], organisationId: ROOT_ORGANISATION_ID });
  await newList([outside, inside]);
  for (const step of ['mergeUserMemberships', 'deleteMergedUser'] as const) {
    const call = (fromUserId: string, toUserId: string) => () => scoped.userActions[step]({ batch: header(), fromUserId, toUserId });
    expect(await refused(call(outside, kept))).toEqual(['NOT_FOUND', 'fromUserId']);
    expect(await refused(call(inside, outside))).toEqual(['NOT_FOUND', 'toUserId']);
    expect(await refused(call(stronger, kept))).toEqual(['PERMISSION_DENIED', 'fromUserId']);
    expect(await refused(call(inside, stronger))).toEqual(['PERMISSION_DENIED', 'toUserId']);
    expect(await refused(call(inside, inside))).toEqual(['INVALID_ARGUMENT', 'toUserId']);
  }
  expect((await memberships(outside)).length).toBe(1);
  expect((await identity.db.query('SELECT id FROM users WHERE id = ANY($1)', [[outside, stronger]])).rowCount).toBe(2);
});
