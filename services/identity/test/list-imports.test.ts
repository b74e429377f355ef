import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { actorWithin, DEFAULT_FOLDER_ID, EventLog, filter, ROOT_ORGANISATION_ID, subjects } from './helpers';

/** The I7 chunks on identity (ImportListMembers): members, lists created, scope, idempotence. */

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
let keys = 0;
let fr: string;

const row = (itemId: string, user: string, listName: string) => ({ itemId, user, listName });
const importMembers = (client: IdentityClient, rows: ReturnType<typeof row>[], matchOn = '', dryRun = false) =>
  client.imports.importListMembers({ batch: { idempotencyKey: dryRun ? '' : `import:lists:${++keys}`, dryRun }, rows, matchOn });
const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code, r.targetId]);
const list = async (name: string) =>
  (
    await identity.db.query<{ id: string; type: string; folder_id: string; owner_organisation_id: string; members: string[] | null }>(
      `SELECT l.*, (SELECT array_agg(u.login ORDER BY u.login) FROM list_members m JOIN users u ON u.id = m.user_id WHERE m.list_id = l.id) AS members
         FROM lists l WHERE l.name = $1`,
      [name],
    )
  ).rows[0];

beforeAll(async () => {
  fixture = await startIdentityFixture('identity_list_imports');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  fr = (await api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } })).organisation!.id;
  const us = (await api.organisations.createOrganisation({ fields: { extId: 'US', label: 'USA' } })).organisation!.id;
  for (const [login, extId, organisationId] of [
    ['anna', 'E1', fr],
    ['bob', 'E2', fr],
    ['carl', 'E3', us],
  ]) {
    await api.users.createUser({ fields: { login, extId, lastName: login, firstName: login, organisationId }, audienceIds: [] });
  }
  await api.lists.createList({
    name: 'Dynamic',
    description: '',
    type: 'dynamic',
    folderId: '',
    criteria: filter({ organisationId: fr }),
    memberIds: [],
    ownerOrganisationId: ROOT_ORGANISATION_ID,
  });
});
afterAll(() => fixture?.stop());

test('I7 adds members, creating a missing list once in the Default folder; again: unchanged, no event', async () => {
  const rows = [
    row('2', 'E1', 'Newcomers'),
    row('3', 'e2', 'newcomers'),
    row('4', 'E1', 'Newcomers'),
    row('5', 'NOBODY', 'Newcomers'),
    row('6', 'E1', 'Dynamic'),
    row('7', 'NOBODY', 'Never made'),
  ];
  const first = await log.act(() => importMembers(api, rows));
  expect(outcomes(first.result.result)).toEqual([
    ['2', 'SUCCEEDED', 'ADDED', ''],
    ['3', 'SUCCEEDED', 'ADDED', ''],
    ['4', 'UNCHANGED', 'UNCHANGED', ''],
    ['5', 'FAILED', 'NOT_FOUND', 'USER'],
    ['6', 'FAILED', 'INVALID', 'LISTE_NAME'],
    ['7', 'FAILED', 'NOT_FOUND', 'USER'],
  ]);
  expect(first.result.result!.results[3].message).toBe('USER: no user with external id "NOBODY"');
  expect(await list('Newcomers')).toMatchObject({
    type: 'static',
    folder_id: DEFAULT_FOLDER_ID,
    owner_organisation_id: ROOT_ORGANISATION_ID,
    members: ['anna', 'bob'],
  });
  expect(await list('Never made')).toBeUndefined();
  expect(subjects(first.events)).toEqual([
    'identity.list.created.v1',
    'identity.list-member.entered.v1',
    'identity.list-member.entered.v1',
  ]);

  const again = await log.act(() => importMembers(api, rows.slice(0, 3)));
  expect(outcomes(again.result.result).map((o) => o[2])).toEqual(['UNCHANGED', 'UNCHANGED', 'UNCHANGED']);
  expect(again.events).toEqual([]);
});

test('I7 on logins; a dry run writes nothing', async () => {
  const dry = await importMembers(api, [row('2', 'carl', 'Dry list'), row('3', 'E3', 'Dry list')], 'login', true);
  expect(outcomes(dry.result)).toEqual([
    ['2', 'SUCCEEDED', 'ADDED', ''],
    ['3', 'FAILED', 'NOT_FOUND', 'USER'],
  ]);
  expect(dry.result!.results[1].message).toBe('USER: no user with login "E3"');
  expect(await list('Dry list')).toBeUndefined();
  const real = await importMembers(api, [row('2', 'CARL', 'Newcomers')], 'login');
  expect(outcomes(real.result)).toEqual([['2', 'SUCCEEDED', 'ADDED', '']]);
  expect((await list('Newcomers')).members).toEqual(['anna', 'bob', 'carl']);
});

test('I7 by a scoped administrator: users and lists of its sub-tree only; its new lists are its own', async () => {
  const scoped = await actorWithin(fixture, [fr], ['lists:write', 'lists:read', 'users:read']);
  const result = await importMembers(scoped, [row('2', 'E1', 'France list'), row('3', 'E3', 'France list'), row('4', 'E2', 'Newcomers')]);
  expect(outcomes(result.result)).toEqual([
    ['2', 'SUCCEEDED', 'ADDED', ''],
    ['3', 'FAILED', 'OUT_OF_SCOPE', 'USER'],
    ['4', 'FAILED', 'OUT_OF_SCOPE', 'LISTE_NAME'],
  ]);
  expect(result.result!.results[1].message).toBe('USER: user "E3" is outside your scope');
  expect(await list('France list')).toMatchObject({ owner_organisation_id: fr, members: ['anna'] });

  // A list owned in its sub-tree holds only users of the sub-tree of its owner.
  const everywhere = await importMembers(api, [row('2', 'E3', 'France list')]);
  expect(outcomes(everywhere.result)).toEqual([['2', 'FAILED', 'OUTSIDE_LIST_OWNER', 'USER']]);

  // A scope of several organisations: which one would own a new list is not known.
  const us = (await identity.db.query<{ id: string }>("SELECT id FROM organisations WHERE ext_id = 'US'")).rows[0].id;
  const twoPlaces = await actorWithin(fixture, [fr, us], ['lists:write']);
  const several = await importMembers(twoPlaces, [row('2', 'E1', 'France list'), row('3', 'E3', 'Two places list')]);
  expect(outcomes(several.result)).toEqual([
    ['2', 'UNCHANGED', 'UNCHANGED', ''],
    ['3', 'FAILED', 'NOT_FOUND', 'LISTE_NAME'],
  ]);
  expect(several.result!.results[1].message).toBe(
    'LISTE_NAME: no list named "Two places list": create it first: a list an import creates belongs to the one organisation of your lists:write scope, and yours holds several',
  );

  const nothing = await actorWithin(fixture, [fr], ['users:read']);
  await expect(importMembers(nothing, [row('2', 'E1', 'France list')])).rejects.toThrow('lists:write');
});
