import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { UserChanged } from '@assistants/proto/gen/identity/v1/events';
import { ImportUsersRequest, type OrganisationImportRow, type UserImportRow } from '@assistants/proto/gen/identity/v1/imports';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { actorWithin, EventLog, subjects } from './helpers';

/** The import chunks on identity (I1): per-row results, savepoints, idempotence, scope. */

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
let keys = 0;

const OPTIONS = { updateNames: true, updateHierarchy: false, onlyFilledCells: true, earlierRows: [] };
const rowOf = (itemId: string, extId: string, label: string, more: Partial<OrganisationImportRow> = {}): OrganisationImportRow => ({
  itemId,
  extId,
  label,
  ...more,
});
const importOrgs = (client: IdentityClient, rows: OrganisationImportRow[], options = {}, dryRun = false) =>
  client.imports.importOrganisations({
    batch: { idempotencyKey: dryRun ? '' : `import:test:${++keys}`, dryRun },
    rows,
    ...OPTIONS,
    ...options,
  });
const outcomes = (result: BatchResult | undefined) =>
  result!.results.map((r) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code, r.targetId]);
const org = async (extId: string) =>
  (
    await identity.db.query<{ id: string; label: string; parent_id: string; city: string }>(
      'SELECT * FROM organisations WHERE ext_id = $1',
      [extId],
    )
  ).rows[0];

beforeAll(async () => {
  fixture = await startIdentityFixture('identity_imports');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
});
afterAll(() => fixture?.stop());

test('I1 creates, with parents further down the chunk; the same rows again are unchanged and publish nothing', async () => {
  const rows = [
    rowOf('2', 'LYON', 'Lyon', { parentExtId: 'FR', city: 'Lyon', budget: '100.5' }),
    rowOf('3', 'FR', 'France', { language: 'fr-FR' }),
    rowOf('4', 'BAD', 'Bad', { parentExtId: 'NOWHERE' }),
    rowOf('5', 'SUP', 'Supervised', { supervisorExtId: 'NOBODY' }),
  ];
  const first = await log.act(() => importOrgs(api, rows));
  expect(outcomes(first.result.result)).toEqual([
    ['2', 'SUCCEEDED', 'ADDED', ''],
    ['3', 'SUCCEEDED', 'ADDED', ''],
    ['4', 'FAILED', 'NOT_FOUND', 'parent_extid'],
    ['5', 'SUCCEEDED', 'ADDED', ''],
    ['5', 'UNCHANGED', 'WARNING', 'org_supervisor_extid'],
  ]);
  expect((await org('LYON')).parent_id).toBe((await org('FR')).id);
  expect(await org('BAD')).toBeUndefined();
  expect(subjects(first.events).filter((s) => s === 'identity.organisation.created.v1')).toHaveLength(3);

  const again = await log.act(() => importOrgs(api, rows.slice(0, 2)));
  expect(outcomes(again.result.result)).toEqual([
    ['2', 'UNCHANGED', 'UNCHANGED', ''],
    ['3', 'UNCHANGED', 'UNCHANGED', ''],
  ]);
  expect(again.events).toEqual([]);
});

test('I1 updates: names and hierarchy by option, only the filled cells; a repeated key is replayed; a dry run writes nothing', async () => {
  await importOrgs(api, [rowOf('2', 'ES', 'Spain'), rowOf('3', 'MAD', 'Madrid', { parentExtId: 'ES', city: 'Madrid' })]);
  const renamed = await importOrgs(api, [rowOf('2', 'MAD', 'Madrid centre', { parentExtId: 'FR' })], { updateNames: false });
  expect(outcomes(renamed.result)).toEqual([['2', 'UNCHANGED', 'UNCHANGED', '']]);
  const moved = await importOrgs(api, [rowOf('2', 'MAD', 'Madrid centre', { parentExtId: 'FR' })], { updateHierarchy: true });
  expect(outcomes(moved.result)).toEqual([['2', 'SUCCEEDED', 'UPDATED', '']]);
  const mad = await org('MAD');
  expect([mad.label, mad.parent_id, mad.city]).toEqual(['Madrid centre', (await org('FR')).id, 'Madrid']);
  await importOrgs(api, [rowOf('2', 'MAD', 'Madrid centre')], { onlyFilledCells: false });
  expect((await org('MAD')).city).toBe('');

  const dry = await importOrgs(api, [rowOf('2', 'DRY', 'Dry')], {}, true);
  expect(outcomes(dry.result)).toEqual([['2', 'SUCCEEDED', 'ADDED', '']]);
  expect(await org('DRY')).toBeUndefined();

  const request = { batch: { idempotencyKey: 'import:job:0', dryRun: false }, rows: [rowOf('2', 'ONCE', 'Once')], ...OPTIONS };
  expect(outcomes((await api.imports.importOrganisations(request)).result)).toEqual([['2', 'SUCCEEDED', 'ADDED', '']]);
  const replay = await api.imports.importOrganisations(request);
  expect(replay.result!.replayed).toBe(true);
  expect(outcomes(replay.result)).toEqual([['2', 'SUCCEEDED', 'ADDED', '']]);
});

test('I1 by a scoped administrator touches only its sub-tree', async () => {
  const scoped = await actorWithin(fixture, [(await org('FR')).id], ['organisations:write', 'organisations:read']);
  const result = await importOrgs(scoped, [
    rowOf('2', 'PARIS', 'Paris', { parentExtId: 'FR' }),
    rowOf('3', 'ES', 'Espagne'),
    rowOf('4', 'TOP', 'Top'),
    rowOf('5', 'BCN', 'Barcelona', { parentExtId: 'ES' }),
  ]);
  expect(outcomes(result.result)).toEqual([
    ['2', 'SUCCEEDED', 'ADDED', ''],
    ['3', 'FAILED', 'PERMISSION_DENIED', 'org_extid'],
    ['4', 'FAILED', 'PERMISSION_DENIED', 'parent_extid'],
    ['5', 'FAILED', 'PERMISSION_DENIED', 'parent_extid'],
  ]);
  expect((await org('ES')).label).toBe('Spain');
  expect(await org('BCN')).toBeUndefined();
});

test('I2: the events of a chunk carry each user as stored after it (columns, password, audiences in name order)', async () => {
  for (const name of ['Zeta', 'alpha', 'Beta']) await api.audiences.createAudience({ name, description: '' });
  await importOrgs(api, [rowOf('2', 'EVENTS', 'Events')]);
  const userRow = (itemId: string, login: string, more: Partial<UserImportRow> = {}): UserImportRow => ({
    itemId,
    fields: { login, lastName: login, firstName: 'Event' },
    organisationExtId: 'EVENTS',
    passwordGenerated: false,
    fingerprint: Buffer.alloc(0),
    ...more,
  });
  const importUsers = (rows: UserImportRow[], options = {}) =>
    api.imports.importUsers(
      ImportUsersRequest.fromPartial({
        batch: { idempotencyKey: `import:test:${++keys}`, dryRun: false },
        rows,
        matchOn: 'login',
        updateExisting: true,
        ...options,
      }),
    );
  /** Each user event of the chunk: its user equals the user read after the chunk. */
  const expectStored = async (events: Awaited<ReturnType<typeof log.act>>['events']) => {
    const users = events.filter((e) => e.subject.startsWith('identity.user.')).map((e) => UserChanged.fromJSON(e.data).user!);
    expect(users.length).toBeGreaterThan(0);
    for (const user of users) expect(user).toEqual((await api.users.getUser({ id: user.id, login: '', extId: '' })).user);
    return users;
  };

  const created = await log.act(() =>
    importUsers([
      userRow('2', 'ev-one', { password: 'First-pass-2024!', audiences: { names: ['Zeta', 'alpha'] } }),
      userRow('3', 'ev-two', { password: 'Second-pass-2024!' }),
    ]),
  );
  expect(subjects(created.events)).toEqual(['identity.user.created.v1', 'identity.user.created.v1', 'identity.user.updated.v1']);
  const [one] = await expectStored(created.events);
  expect(one.audiences.map((a) => a.name)).toEqual(['alpha', 'Zeta']);

  // a column and the audiences replaced; the audiences alone; a new password alone
  const updated = await log.act(() =>
    importUsers(
      [
        userRow('2', 'ev-one', { fields: { login: 'ev-one', city: 'Lyon' }, audiences: { names: ['Beta'] } }),
        userRow('3', 'ev-two', { fields: { login: 'ev-two' }, audiences: { names: ['Zeta', 'Beta'] }, password: 'Changed-pass-2024!' }),
      ],
      { replaceAudiences: true, updatePasswords: true },
    ),
  );
  const users = await expectStored(updated.events);
  expect(users.map((u) => [u.login, u.city, u.audiences.map((a) => a.name)])).toEqual([
    ['ev-one', 'Lyon', ['Beta']],
    ['ev-two', '', ['Beta', 'Zeta']],
    ['ev-one', 'Lyon', ['Beta']],
    ['ev-two', '', ['Beta', 'Zeta']],
  ]);
  expect(subjects(updated.events)).toEqual([
    'identity.user.updated.v1',
    'identity.user.updated.v1',
    'identity.user.updated.v1',
    'identity.user.updated.v1',
  ]);
});
