import pg from 'pg';
import {
  actingAs,
  EventLog,
  startIdentityFixture,
  startImport,
  waitFor,
  type IdentityFixture,
  type ImportClient,
  type TestImport,
} from '@assistants/testing';
import { runImport } from './helpers';

/** I2 by chunks of 2 rows: managers defined further down the file than their users' chunks,
 * two chunks applied at once, and a chunk that identity rolls back in a deadlock (ABORTED),
 * sent again at once rather than left until the job's lease (600 s here) runs out. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_managers');
  service = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_CHUNK_ROWS: '2', IMPORT_LEASE_SECONDS: '600' },
  });
  admin = actingAs(service.client, fixture.adminId);
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } });
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
});

const managers = async () =>
  (
    await fixture.identity.db.query<{ login: string; manager: string | null; secondary: string | null }>(
      `SELECT u.login, m.login AS manager, s.login AS secondary FROM users u
         LEFT JOIN users m ON m.id = u.manager_id LEFT JOIN users s ON s.id = u.secondary_manager_id
        WHERE u.login LIKE 'm-%' ORDER BY u.login`,
    )
  ).rows;

const FILE = [
  'user_lname;user_fname;user_login;user_password;org_extid;user_extid;user_manager_extid;user_alternate_manager_extid',
  'A;A;m-a;Secret-pass-0001;FR;MA;MD;ME',
  'B;B;m-b;Secret-pass-0002;FR;MB;NOBODY;',
  'C;C;m-c;Secret-pass-0003;FR;MC;MA;',
  'D;D;m-d;Secret-pass-0004;XX;MD;;',
  'E;E;m-e;Secret-pass-0005;FR;ME;MA;',
].join('\n');
const LOG = [
  '5;org_extid;XX;error;"org_extid: no organisation with external id ""XX"""',
  '2;user_manager_extid;MD;warning;"user_manager_extid: no user with external id ""MD"": the manager is left as it was"',
  '3;user_manager_extid;NOBODY;warning;"user_manager_extid: no user with external id ""NOBODY"": the manager is left as it was"',
];

test('a manager further down the file is set after the last chunk; one found nowhere (or on a rejected row) is a warning; the dry run says the same', async () => {
  const identityEvents = new EventLog(fixture.identity, 'IDENTITY');
  await identityEvents.next();
  const dry = await runImport(admin, 'users', FILE, { dryRun: true });
  expect(dry.log.toString().split('\r\n').slice(1, -1)).toEqual(LOG);
  expect(await managers()).toEqual([]);

  const real = await runImport(admin, 'users', FILE);
  expect(real.job.counts).toEqual({ read: 5, added: 4, updated: 0, unchanged: 0, rejected: 1, warnings: 2 });
  expect([real.job.counts, real.log]).toEqual([dry.job.counts, dry.log]);
  expect(await managers()).toEqual([
    { login: 'm-a', manager: null, secondary: 'm-e' },
    { login: 'm-b', manager: null, secondary: null },
    { login: 'm-c', manager: 'm-a', secondary: null },
    { login: 'm-e', manager: 'm-a', secondary: null },
  ]);
  // The creations, and the managers the last pass set as updateUser publishes them (two
  // chunks are applied at a time: a manager in the chunk before may be set by the last pass too).
  const published = (await identityEvents.next()).map((e) => {
    const data = e.data as { user: { login: string }; changedFields: string[] };
    return { subject: e.subject, login: data.user.login, changedFields: data.changedFields };
  });
  expect(
    published
      .filter((e) => e.subject === 'identity.user.created.v1')
      .map((e) => [e.login, e.changedFields.length])
      .sort(),
  ).toEqual([
    ['m-a', 36],
    ['m-b', 36],
    ['m-c', 36],
    ['m-e', 36],
  ]);
  expect(published.filter((e) => e.subject === 'identity.user.updated.v1').map((e) => [e.login, e.changedFields])).toContainEqual([
    'm-a',
    ['secondary_manager_id'],
  ]);

  // Again: every row unchanged, the same warnings, no event.
  const again = await runImport(admin, 'users', FILE);
  expect(again.job.counts).toEqual({ read: 5, added: 0, updated: 0, unchanged: 4, rejected: 1, warnings: 2 });
  expect(again.log).toEqual(real.log);
  expect(await identityEvents.next()).toEqual([]);
});

test('two chunks applied at once: a login that rows of both take is given once, the other row fails with why', async () => {
  const file = [
    'user_lname;user_fname;user_login;user_password;org_extid;user_extid',
    'Twice;One;m-twice;Secret-pass-1001;FR;T1',
    'Twice;Pad;m-pad;Secret-pass-1002;FR;T2',
    'Twice;Two;m-twice;Secret-pass-1003;FR;T3',
  ].join('\n');
  const { job, log } = await runImport(admin, 'users', file, { options: { matchOn: 'extId' } });
  expect(job.counts).toMatchObject({ read: 3, added: 2, rejected: 1 });
  const lines = log.toString().split('\r\n').slice(1, -1);
  expect(lines).toHaveLength(1);
  // Whichever chunk wrote it first keeps it (one at a time, the earlier row would).
  expect(lines[0]).toMatch(/^[24];user_login;m-twice;error;"login ""m-twice"" is already used by another user"$/);
  const { rows } = await fixture.identity.db.query<{ ext_id: string }>("SELECT ext_id FROM users WHERE login = 'm-twice'");
  expect(rows).toEqual([{ ext_id: lines[0].startsWith('2') ? 'T3' : 'T1' }]);
});

const file = (firstName: string) =>
  [
    'user_lname;user_fname;user_login;user_password;org_extid;user_extid',
    `A;${firstName};d-a;Secret-pass-0001;FR;DA`,
    `B;${firstName};d-b;Secret-pass-0002;FR;DB`,
  ].join('\n');

test('a chunk rolled back in a deadlock with another transaction is sent again at once and applied once', async () => {
  expect((await runImport(admin, 'users', file('Before'))).job.counts).toMatchObject({ added: 2 });
  // The chunk locks its users in id order.
  const [first, second] = (
    await fixture.identity.db.query<{ id: string }>("SELECT id FROM users WHERE login IN ('d-a', 'd-b') ORDER BY id")
  ).rows;
  const events = new EventLog(fixture.identity, 'IDENTITY');
  await events.next();

  const other = new pg.Client({ connectionString: fixture.pg.url, options: '-c search_path=identity' });
  await other.connect();
  try {
    await other.query('BEGIN');
    // This session looks for a deadlock long after the chunk's does: the chunk's transaction
    // is the one PostgreSQL rolls back.
    await other.query("SET LOCAL deadlock_timeout = '60s'");
    const { rows: me } = await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [second.id]);
    const running = runImport(admin, 'users', file('After'), { timeoutMs: 30_000 });
    await waitFor('the chunk holding the first user and waiting for the second', async () => {
      const { rows } = await other.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [me[0].pid],
      );
      return rows[0].n === 1;
    });
    // The first user's lock comes only once the chunk's transaction released it: rolled back,
    // as it could not commit without the second user's.
    await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [first.id]);
    await other.query('ROLLBACK');

    const { job, log } = await running;
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ read: 2, added: 0, updated: 2, unchanged: 0, rejected: 0, warnings: 0 });
    expect(log.toString().split('\r\n').slice(1, -1)).toEqual([]);
  } finally {
    await other.end();
  }
  const { rows } = await fixture.identity.db.query<{ login: string; first_name: string }>(
    "SELECT login, first_name FROM users WHERE login IN ('d-a', 'd-b') ORDER BY login",
  );
  expect(rows).toEqual([
    { login: 'd-a', first_name: 'After' },
    { login: 'd-b', first_name: 'After' },
  ]);
  // One event a user: the rolled-back attempt published nothing.
  const published = (await events.next()).map((e) => [e.subject, (e.data as { user: { login: string } }).user.login]);
  expect(published.sort()).toEqual([
    ['identity.user.updated.v1', 'd-a'],
    ['identity.user.updated.v1', 'd-b'],
  ]);
}, 60_000);
