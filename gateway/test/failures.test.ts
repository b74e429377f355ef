import { basic, startStack, type TestStack } from '@assistants/testing';
import pg from 'pg';

// Its own stack: it breaks identity, spends the allowance of failed logins, then stops identity.
let stack: TestStack;
let rootId: string;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_AUTH_FAILURES_PER_MINUTE: '3', GATEWAY_UPSTREAM_TIMEOUT_MS: '1500' });
  rootId = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
});

afterAll(async () => {
  await stack?.stop();
});

it('hides an internal error behind an error id', async () => {
  // An internal failure in identity: a table it needs is gone.
  await stack.identity.db.query('ALTER TABLE identity.organisations RENAME TO organisations_gone');
  try {
    const failed = await stack.http('GET', `/v1/organisations/${rootId}`);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'internal', message: `internal error ${failed.body.errorId}`, errorId: expect.any(String) });
    expect(JSON.stringify(failed.body)).not.toMatch(/organisations|relation|sql|identity/i);
  } finally {
    await stack.identity.db.query('ALTER TABLE identity.organisations_gone RENAME TO organisations');
  }
});

it('refuses further attempts after too many failed authentications', async () => {
  const attempt = () => stack.http('GET', '/v1/me', { auth: basic('admin', 'guess') });
  for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
  const refused = await attempt();
  expect(refused.status).toBe(429);
  expect(refused.body.error).toBe('too_many_failures');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  // Any credential not checked already waits too: guessing on is pointless.
  expect((await stack.http('GET', '/v1/me', { auth: basic('someone', 'else') })).status).toBe(429);
});

it('stops the statement of a call nobody waits for any more (504), so it never applies late', async () => {
  const user = (await stack.http('POST', '/v1/users', { body: { login: 'locked', lastName: 'L', firstName: 'L', organisationId: rootId } }))
    .body;
  // Another transaction holds the user's row: identity's UPDATE has to wait for it.
  const blocker = new pg.Client({ connectionString: stack.fixture.pg.url });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM identity.users WHERE id = $1 FOR UPDATE', [user.id]);
    const patched = await stack.http('PATCH', `/v1/users/${user.id}`, { body: { custom1: 'too late' } });
    expect(patched.status).toBe(504);
    expect(patched.body.error).toBe('deadline_exceeded');
    // Identity's statement stopped at the deadline: nothing waits on the lock any more.
    const waiting = async () =>
      Number(
        (await blocker.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
          .rows[0].n,
      );
    const deadline = Date.now() + 3000;
    while ((await waiting()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await waiting()).toBe(0);
  } finally {
    await blocker.query('ROLLBACK');
    await blocker.end();
  }
  expect((await stack.http('GET', `/v1/users/${user.id}`)).body.custom1).toBe('');
});

it('says when a service is unavailable, without its address, and stops being ready', async () => {
  await stack.identity.stop();
  const unavailable = await stack.http('GET', `/v1/organisations/${rootId}`);
  expect(unavailable.status).toBe(503);
  expect(unavailable.body).toEqual({ error: 'unavailable', message: 'identity is unavailable, try again shortly' });
  expect(JSON.stringify(unavailable.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:\d{2,5}/);
  const ready = await fetch(`${stack.healthUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({
    status: 'not ready',
    checks: {
      identity: false,
      catalog: true,
      assignment: true,
      notification: true,
      statistics: true,
      import: true,
      assessment: true,
      database: true,
    },
  });
});
