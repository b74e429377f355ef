import { randomUUID } from 'node:crypto';
import { basic, readStream, startStack, type TestStack } from '@assistants/testing';

/** The event plumbing, as an operator sees it through the API. */
let stack: TestStack;
let scoped: string;

beforeAll(async () => {
  stack = await startStack();
  // An administrator of everything in one organisation, but not on the root.
  const org = (await stack.http('POST', '/v1/organisations', { body: { extId: 'OPS-ORG', label: 'Ops org' } })).body;
  const everything = (await stack.http('POST', '/v1/roles', { body: { name: 'Everything here', permissions: ['*'] } })).body;
  const user = (
    await stack.http('POST', '/v1/users', {
      body: { login: 'local-admin', lastName: 'L', firstName: 'A', organisationId: org.id, password: 'local admin password' },
    })
  ).body;
  await stack.http('POST', `/v1/users/${user.id}/roles`, { body: { roleIds: [everything.id], organisationId: org.id } });
  scoped = basic('local-admin', 'local admin password');
});

afterAll(async () => {
  await stack?.stop();
});

it('shows an event that could not be published, and publishes it again once its cause is fixed', async () => {
  // A bug in a release: an event on a subject no stream owns. It is moved aside, and the
  // events behind it are published.
  const envelope = {
    id: randomUUID(),
    subject: 'stray.thing.happened.v1',
    time: new Date().toISOString(),
    correlationId: '',
    data: { n: 1 },
  };
  await stack.identity.db.query(`INSERT INTO identity.kit_outbox (subject, key, envelope) VALUES ($1, 'stray', $2)`, [
    envelope.subject,
    JSON.stringify(envelope),
  ]);
  const behind = await stack.http('POST', '/v1/audiences', { body: { name: 'Behind the stray event' } });
  await stack.identity.flushEvents();
  const published = await readStream(stack.identity.bus, 'IDENTITY');
  expect(
    published.some(
      (e) => e.subject === 'identity.audience.created.v1' && (e.data as { audience: { id: string } }).audience.id === behind.body.id,
    ),
  ).toBe(true);

  const status = await stack.http('GET', '/v1/ops/events');
  expect(status.status).toBe(200);
  expect(status.body.items).toEqual([
    { service: 'identity', pending: 0, oldestPendingSeconds: 0, unpublishable: 1, consumers: [] },
    {
      service: 'catalog',
      pending: 0,
      oldestPendingSeconds: 0,
      unpublishable: 0,
      consumers: [{ durable: 'catalog-audience-removal', deadLetters: 0 }],
    },
    {
      service: 'assignment',
      pending: 0,
      oldestPendingSeconds: 0,
      unpublishable: 0,
      consumers: [{ durable: 'assignment-list-enrolment', deadLetters: 0 }],
    },
    {
      service: 'notification',
      pending: 0,
      oldestPendingSeconds: 0,
      unpublishable: 0,
      consumers: [
        { durable: 'notification-assignment-mails', deadLetters: 0 },
        { durable: 'notification-statistics-mails', deadLetters: 0 },
      ],
    },
    {
      service: 'statistics',
      pending: 0,
      oldestPendingSeconds: 0,
      unpublishable: 0,
      consumers: [
        { durable: 'statistics-assessment', deadLetters: 0 },
        { durable: 'statistics-assignments', deadLetters: 0 },
        { durable: 'statistics-catalog', deadLetters: 0 },
        { durable: 'statistics-identity', deadLetters: 0 },
      ],
    },
    { service: 'import', pending: 0, oldestPendingSeconds: 0, unpublishable: 0, consumers: [] },
    { service: 'assessment', pending: 0, oldestPendingSeconds: 0, unpublishable: 0, consumers: [] },
  ]);
  const listed = await stack.http('GET', '/v1/ops/services/identity/unpublishable');
  expect(listed.body.total).toBe(1);
  expect(listed.body.items[0]).toMatchObject({
    subject: 'stray.thing.happened.v1',
    eventId: envelope.id,
    reason: expect.stringMatching(/stream/),
  });

  // Fixed: a stream now owns the subject.
  await stack.identity.bus.jsm.streams.add({ name: 'STRAY', subjects: ['stray.>'] });
  const retried = await stack.http('POST', '/v1/ops/services/identity/unpublishable/retry', { body: { ids: [listed.body.items[0].seq] } });
  expect(retried.body).toEqual({ retried: 1 });
  await stack.identity.flushEvents();
  expect((await readStream(stack.identity.bus, 'STRAY')).map((e) => e.id)).toEqual([envelope.id]);
  expect((await stack.http('GET', '/v1/ops/events')).body.items[0].unpublishable).toBe(0);
  expect((await stack.http('GET', '/v1/ops/services/identity/dead-letters')).body).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
});

it('is for operators of the whole tree only, and names unknown services', async () => {
  for (const [method, path, body] of [
    ['GET', '/v1/ops/events'],
    ['GET', '/v1/ops/services/identity/unpublishable'],
    ['POST', '/v1/ops/services/identity/unpublishable/retry', { ids: ['1'] }],
    ['GET', '/v1/ops/services/identity/dead-letters'],
    ['POST', '/v1/ops/services/identity/dead-letters/replay', { ids: ['1'] }],
    ['POST', '/v1/ops/services/identity/dead-letters/discard', { ids: ['1'] }],
  ] as [string, string, object?][]) {
    const refused = await stack.http(method, path, { auth: scoped, body });
    expect([path, refused.status, refused.body.message]).toEqual([
      path,
      403,
      'this needs the permission events:manage on the root organisation',
    ]);
  }
  const unknown = await stack.http('GET', '/v1/ops/services/catalogue/dead-letters');
  expect(unknown.status).toBe(404);
  expect(unknown.body.field).toBe('params.service');
});
