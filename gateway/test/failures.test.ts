import { basic, startStack, type TestStack } from '@assistants/testing';

// Its own stack: it breaks identity, spends the allowance of failed logins, then stops identity.
let stack: TestStack;
let rootId: string;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_AUTH_FAILURES_PER_MINUTE: '3' });
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

it('says when a service is unavailable, and stops being ready', async () => {
  await stack.identity.stop();
  const unavailable = await stack.http('GET', `/v1/organisations/${rootId}`);
  expect(unavailable.status).toBe(503);
  expect(unavailable.body.error).toBe('unavailable');
  const ready = await fetch(`${stack.healthUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'not ready', checks: { identity: false } });
});
