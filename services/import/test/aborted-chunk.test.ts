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

/** A chunk that identity rolls back in a deadlock (ABORTED) is sent again at once, on the real
 * PostgreSQL server: the job does not stop until its lease runs out (600 s here). */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_aborted');
  service = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_LEASE_SECONDS: '600' },
  });
  admin = actingAs(service.client, fixture.adminId);
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } });
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
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
