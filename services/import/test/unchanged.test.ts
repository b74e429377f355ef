import pg from 'pg';
import {
  actingAs,
  startIdentityFixture,
  startImport,
  waitFor,
  type IdentityFixture,
  type ImportClient,
  type TestImport,
} from '@assistants/testing';
import type { FileRow, ParsedHeader } from '../src/engine/rows';
import { rawRecord } from '../src/engine/read';
import { usersKind } from '../src/kinds/users';
import { usersUnchanged } from '../src/kinds/users.unchanged';
import type { Upstreams } from '../src/upstreams';
import { runImport } from './helpers';

/** I2 re-imports: the rows identity knows unchanged by their fingerprints are not sent again;
 * whatever changed since (the user, its grants, what rows are resolved against, the
 * importer) sends the row again, and it is decided as on the first import. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;
const ROOT = '00000000-0000-4000-8000-000000000001';

const q = async <T extends Record<string, unknown>>(sql: string, values: unknown[] = []) =>
  (await fixture.identity.db.query<T>(sql, values)).rows;
const idOf = async (table: string, column: string, value: string) =>
  (await q<{ id: string }>(`SELECT id FROM ${table} WHERE ${column} = $1`, [value]))[0].id;
/** The chunks of a job identity applied (kit batches under the job's key). */
const chunksSent = async (jobId: string) =>
  Number((await q<{ n: string }>('SELECT count(*) AS n FROM kit_batches WHERE idempotency_key LIKE $1', [`import:${jobId}:%`]))[0].n);

const FILE = [
  'user_lname;user_fname;user_login;user_password;org_extid;user_extid;user_manager_extid;user_city;user_audiences;user_roles;List_name',
  'Martin;Claire;cmartin;Secret-pass-1234;FR;E1;E3;Lyon;Sales;Viewer:FR;Newcomers',
  'Durand;Paul;pdurand;Secret-pass-5678;FR;E2;E3;Paris;Sales;;',
  'Petit;Anne;apetit;Secret-pass-9012;US;E3;;Boston;;;',
].join('\r\n');

beforeAll(async () => {
  fixture = await startIdentityFixture('import_unchanged');
  service = await startImport({ nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address });
  admin = actingAs(service.client, fixture.adminId);
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } });
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'US', label: 'USA' } });
  await fixture.api.audiences.createAudience({ name: 'Sales', description: '' });
  await fixture.api.roles.createRole({ name: 'Viewer', description: '', permissions: ['users:read'] });
  await fixture.api.lists.createList({
    name: 'Newcomers',
    description: '',
    type: 'static',
    folderId: '',
    memberIds: [],
    ownerOrganisationId: ROOT,
  });
  const first = await runImport(admin, 'users', FILE);
  expect(first.job.counts).toMatchObject({ added: 3, rejected: 0, warnings: 0 });
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
});

test('the same file again: every row found unchanged by its fingerprint, no chunk sent to identity', async () => {
  expect(await q('SELECT user_id FROM user_import_fingerprints WHERE fingerprint IS NOT NULL')).toHaveLength(3);
  const again = await runImport(admin, 'users', FILE);
  expect(again.job.counts).toEqual({ read: 3, added: 0, updated: 0, unchanged: 3, rejected: 0, warnings: 0 });
  expect(await chunksSent(again.job.id)).toBe(0);
});

test('a user changed since, or its grants, is sent and brought back to the file; the others stay found', async () => {
  const claire = await idOf('users', 'login', 'cmartin');
  await fixture.api.users.updateUser({ id: await idOf('users', 'login', 'pdurand'), fields: { city: 'Nantes' } });
  await fixture.api.roles.revokeRole({
    userId: claire,
    roleId: await idOf('roles', 'name', 'Viewer'),
    organisationId: await idOf('organisations', 'ext_id', 'FR'),
  });
  const again = await runImport(admin, 'users', FILE);
  expect(again.job.counts).toEqual({ read: 3, added: 0, updated: 2, unchanged: 1, rejected: 0, warnings: 0 });
  expect(await chunksSent(again.job.id)).toBe(1);
  expect((await q('SELECT city FROM users WHERE login = $1', ['pdurand']))[0].city).toBe('Paris');
  expect(await q('SELECT 1 FROM role_grants WHERE user_id = $1', [claire])).toHaveLength(1);
  // and now found again
  expect((await runImport(admin, 'users', FILE)).job.counts).toMatchObject({ unchanged: 3 });
});

test("a manager's external id changed: its users' rows are sent and warn", async () => {
  await fixture.api.users.updateUser({ id: await idOf('users', 'login', 'apetit'), fields: { extId: 'E3-OLD' } });
  const again = await runImport(admin, 'users', FILE.replace(';E3;;Boston', ';E3-OLD;;Boston'));
  expect(again.job.counts).toMatchObject({ unchanged: 3, warnings: 2 });
  expect(again.log.toString()).toContain('no user with external id ""E3""');
  await fixture.api.users.updateUser({ id: await idOf('users', 'login', 'apetit'), fields: { extId: 'E3' } });
});

test('an audience renamed moves the epoch: the rows naming it are decided again (and fail)', async () => {
  const sales = await idOf('audiences', 'name', 'Sales');
  expect((await runImport(admin, 'users', FILE)).job.counts).toMatchObject({ unchanged: 3 });
  await fixture.api.audiences.updateAudience({ id: sales, name: 'Sales team' });
  const again = await runImport(admin, 'users', FILE);
  expect(again.job.counts).toMatchObject({ unchanged: 1, rejected: 2 });
  expect(again.rejects.toString()).toContain('no audience named ""Sales""');
  await fixture.api.audiences.updateAudience({ id: sales, name: 'Sales' });
});

test('another administrator, scoped to FR, importing the same file: its rows are decided for it (US and the manager there are outside)', async () => {
  expect((await runImport(admin, 'users', FILE)).job.counts).toMatchObject({ unchanged: 3 });
  const { user: scoped } = await fixture.api.users.createUser({
    fields: { login: 'fr-admin', lastName: 'Fr', firstName: 'Admin', organisationId: await idOf('organisations', 'ext_id', 'FR') },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'FR importer',
    description: '',
    permissions: ['imports:run', 'users:read', 'users:write', 'roles:grant', 'lists:write', 'organisations:read'],
  });
  await fixture.api.roles.grantRoles({
    userIds: [scoped!.id],
    roleIds: [role!.id],
    organisationId: await idOf('organisations', 'ext_id', 'FR'),
  });
  const { job, rejects } = await runImport(actingAs(service.client, scoped!.id), 'users', FILE);
  // (the manager of the first two is in US too: outside its scope, not found for it)
  expect(job.counts).toMatchObject({ unchanged: 0, rejected: 3 });
  expect(rejects.toString()).toContain('organisation ""US"" is outside your scope');
});

test('a dry run finds the unchanged rows but keeps no fingerprint', async () => {
  const file = `${FILE}\r\nNew;Nina;nnew;Secret-pass-3456;FR;E9;;Lille;;;`;
  const dry = await runImport(admin, 'users', file, { dryRun: true });
  expect(dry.job.counts).toMatchObject({ added: 1 });
  expect(await q("SELECT 1 FROM users WHERE login = 'nnew'")).toHaveLength(0);
  expect(await q('SELECT user_id FROM user_import_fingerprints WHERE fingerprint IS NOT NULL')).toHaveLength(3);
});

test('administrators changing users while a file is decided: no fingerprint outlives a change (several writers, real PostgreSQL)', async () => {
  const size = 1200;
  const file = [
    'user_lname;user_fname;user_login;user_password;org_extid;user_city',
    ...Array.from({ length: size }, (_, i) => `N${i};Many;many${i};Secret-pass-${i}x;FR;City ${i}`),
  ].join('\n');
  // The users there already (by SQL: hashing their passwords is not what this is about),
  // brought to the file's values by a first import.
  await q(
    `INSERT INTO users (login, last_name, first_name, organisation_id, password_hash)
     SELECT 'many' || i, 'Seeded', 'Many', o.id, 'not-a-hash' FROM generate_series(0, $1::int - 1) i, organisations o WHERE o.ext_id = 'FR'`,
    [size],
  );
  expect((await runImport(admin, 'users', file, { timeoutMs: 90_000 })).job.counts).toMatchObject({ updated: size });
  const ids = (await q<{ id: string }>("SELECT id FROM users WHERE login LIKE 'many%' ORDER BY login")).map((r) => r.id);
  // Every fingerprint out of date (the epoch moves): the next import decides every row again.
  await fixture.api.audiences.createAudience({ name: 'Epoch mover', description: '' });
  let writing = true;
  const changed = new Set<string>();
  const writer = async (w: number) => {
    for (let n = 0; writing; n++) {
      const id = ids[(n * 7 + w * 997) % size];
      await fixture.api.users.updateUser({ id, fields: { city: `Moved ${w}-${n}` } });
      changed.add(id);
    }
  };
  const writers = [0, 1, 2].map(writer);
  const during = await runImport(admin, 'users', file, { timeoutMs: 90_000 });
  writing = false;
  await Promise.all(writers);
  expect(during.job.counts).toMatchObject({ rejected: 0 });
  expect(changed.size).toBeGreaterThan(0);
  // The file again: whatever a writer changed, before or after its row was decided, is found
  // changed and brought back; a fingerprint kept past a change would leave it moved.
  const after = await runImport(admin, 'users', file, { timeoutMs: 90_000 });
  expect(after.job.counts).toMatchObject({ rejected: 0 });
  const moved = await q<{ login: string; city: string }>("SELECT login, city FROM users WHERE login LIKE 'many%' AND city LIKE 'Moved%'");
  expect(moved).toEqual([]);
  expect((await runImport(admin, 'users', file)).job.counts).toMatchObject({ unchanged: size });
}, 300_000);

test('a user changed by another writer after its chunk was read and before it was written: its row is decided again, the change is not lost', async () => {
  const file = (city: string) =>
    [
      'user_lname;user_fname;user_login;user_password;org_extid;user_city',
      ...[0, 1, 2].map((i) => `Race${i};Rita;race${i};Secret-pass-${i}x;FR;${city}`),
    ].join('\n');
  expect((await runImport(admin, 'users', file('Lyon'))).job.counts).toMatchObject({ added: 3 });
  // The other writer holds race1's row from before the chunk reads it, and changes a field the
  // file does not name only once the chunk waits for that row (after it decided every row).
  const writer = new pg.Client({ connectionString: fixture.pg.url, options: '-c search_path=identity' });
  await writer.connect();
  try {
    await writer.query('BEGIN');
    await writer.query("SELECT id FROM users WHERE login = 'race1' FOR UPDATE");
    const importing = runImport(admin, 'users', file('Paris'));
    // (Asked on another connection: a transaction sees one snapshot of pg_stat_activity.)
    await waitFor(
      'the chunk waiting for race1',
      async () =>
        (
          await q(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM users WHERE id = ANY%FOR UPDATE%'`,
          )
        ).length > 0,
    );
    await writer.query("UPDATE users SET custom1 = 'changed meanwhile' WHERE login = 'race1'");
    await writer.query('COMMIT');
    const during = await importing;
    expect(during.job.counts).toMatchObject({ updated: 3, rejected: 0 });
  } finally {
    await writer.end();
  }
  // Written from what the chunk read, race1 would have its custom1 put back to ''.
  expect(await q("SELECT login, city, custom1 FROM users WHERE login LIKE 'race%' ORDER BY login")).toEqual([
    { login: 'race0', city: 'Paris', custom1: '' },
    { login: 'race1', city: 'Paris', custom1: 'changed meanwhile' },
    { login: 'race2', city: 'Paris', custom1: '' },
  ]);
  expect((await runImport(admin, 'users', file('Paris'))).job.counts).toMatchObject({ unchanged: 3 });
});

test("a row's fingerprint leaves its password out, and a row whose password would be set has none", () => {
  const columns = ['login', 'password', 'city'].map((field) => usersKind.columns.find((c) => c.field === field)!);
  const header: ParsedHeader = {
    columns,
    raw: 'user_login;user_password;user_city',
    end: '\n',
    format: { encoding: 'utf-8', bom: false, separator: ';' },
  };
  const row = (raw: string): FileRow => ({ record: rawRecord(2, raw, '\n', ';'), key: [raw.split(';')[0]] });
  const job = (options: Record<string, string | boolean>) => usersUnchanged({} as Upstreams, { id: 'j', actorId: 'a', options });
  const plain = job({ updatePasswords: false });
  const one = plain.fingerprint(header, row('cm;Secret-1;Lyon'))!;
  expect(one).toEqual(plain.fingerprint(header, row('cm;Other-2;Lyon')));
  expect(one).not.toEqual(plain.fingerprint(header, row('cm;Secret-1;Paris')));
  // other options: another fingerprint
  expect(one).not.toEqual(job({ updatePasswords: false, replaceAudiences: true }).fingerprint(header, row('cm;Secret-1;Lyon')));
  expect(job({ updatePasswords: true }).fingerprint(header, row('cm;Secret-1;Lyon'))).toBeUndefined();
  expect(job({ updatePasswords: true }).fingerprint(header, row('cm;;Lyon'))).toBeInstanceOf(Buffer);
});
