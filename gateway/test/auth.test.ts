import { basic, startStack, type TestStack } from '@assistants/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('authentication', () => {
  it('no route answers without credentials, nor with wrong ones', async () => {
    const spec = await stack.http('GET', '/docs/json');
    expect(spec.status).toBe(200);
    const operations = Object.entries(spec.body.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          method: method.toUpperCase(),
          path: path.replace(/\{[^}]+\}/g, '8b0f1ab4-7f4e-4c8e-9d2b-1b6c3f5a9e21'),
          documentedAnonymous: operation.security?.length === 0,
        })),
    );
    // The one exception, documented as such: a calendar feed, whose secret address is its
    // credential (assistants-bell-calendar.test.ts).
    expect(operations.filter((o) => o.documentedAnonymous).map((o) => `${o.method} ${o.path}`)).toEqual([
      'GET /v1/calendar/8b0f1ab4-7f4e-4c8e-9d2b-1b6c3f5a9e21',
    ]);
    const routes = operations.filter((o) => !o.documentedAnonymous).map(({ method, path }) => ({ method, path }));
    expect(routes.length).toBeGreaterThan(20);
    const extra = [
      { method: 'GET', path: '/docs' },
      { method: 'GET', path: '/docs/json' },
      { method: 'GET', path: '/no/such/route' },
    ];
    for (const { method, path } of [...routes, ...extra]) {
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const anonymous = await stack.http(method, path, { auth: null, body });
      expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 });
      expect(anonymous.body.error).toBe('unauthenticated');
    }
    const wrong = await stack.http('GET', '/v1/me', { auth: basic('admin', 'not the password') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'unauthenticated', message: 'invalid credentials' });
    expect((await stack.http('GET', '/v1/me', { auth: 'Bearer made-up-token' })).status).toBe(401);
  });

  it('logs in with Basic credentials, works with the bearer token, logs out', async () => {
    const session = await stack.http('POST', '/v1/sessions');
    expect(session.status).toBe(201);
    expect(session.body.token).toMatch(/^[\w-]{40,}$/);
    const bearer = `Bearer ${session.body.token}`;
    const me = await stack.http('GET', '/v1/me', { auth: bearer });
    expect(me.status).toBe(200);
    expect(me.body.login).toBe('admin');
    expect(me.body.grants).toEqual([expect.objectContaining({ roleName: 'Administrator', permissions: ['*'] })]);

    expect((await stack.http('DELETE', '/v1/sessions/current', { auth: bearer })).status).toBe(204);
    expect((await stack.http('GET', '/v1/me', { auth: bearer })).status).toBe(401);
  });

  it('asks browsers for a login on the docs page, and serves it with credentials', async () => {
    const anonymous = await stack.http('GET', '/docs', { auth: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const page = await stack.http('GET', '/docs/static/index.html');
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('swagger');
    const spec = await stack.http('GET', '/docs/json');
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(spec.body.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer' },
      basic: { type: 'http', scheme: 'basic' },
    });
  });

  it('documents named schemas, optional query parameters, what each response means and what each route needs', async () => {
    const spec = (await stack.http('GET', '/docs/json')).body;
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'User', 'UserFilter', 'UserSelection', 'UserList', 'Principal', 'Organisation']),
    );
    expect(JSON.stringify(spec)).not.toMatch(/def-\d+/);
    const browse = spec.paths['/v1/organisations'].get;
    for (const name of ['limit', 'offset', 'parentId', 'query']) {
      expect(browse.parameters.find((p: { name: string }) => p.name === name)).toMatchObject({ in: 'query', required: false });
    }
    expect(browse.description).toMatch(/Needs the permission organisations:read/);
    for (const [path, methods] of Object.entries(spec.paths) as [
      string,
      Record<string, { responses: Record<string, { description: string }> }>,
    ][]) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          expect([`${method} ${path} ${status}`, response.description]).not.toEqual([`${method} ${path} ${status}`, 'Default Response']);
        }
      }
    }
    expect(spec.paths['/v1/users/search'].post.responses['404'].description).toMatch(/outside the organisations/);
  });

  it('sends the security headers on every answer, refused or not', async () => {
    for (const answer of [
      await stack.http('GET', '/v1/me'),
      await stack.http('GET', '/v1/me', { auth: null }),
      await stack.http('GET', '/docs/static/index.html'),
    ]) {
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("img-src 'self' data:");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' https:");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(answer.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers with the correlation id it was given, or a new one', async () => {
    const given = await stack.http('GET', '/v1/me', { headers: { 'x-correlation-id': 'run-42.step-1' } });
    expect(given.headers.get('x-correlation-id')).toBe('run-42.step-1');
    const fresh = await stack.http('GET', '/v1/me', { headers: { 'x-correlation-id': 'bad id with spaces' } });
    expect(fresh.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('health', () => {
  it('says live and ready on the health port, without credentials', async () => {
    const live = await fetch(`${stack.healthUrl}/healthz`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${stack.healthUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: {
        identity: true,
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
});
