import { readStream, startStack, type TestStack } from '@assistants/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

it('publishes an event for each change made through the API, with the request correlation id', async () => {
  await stack.identity.flushEvents();
  const before = (await readStream(stack.identity.bus, 'IDENTITY')).length;
  const call = async (method: string, path: string, correlationId: string, body?: object) => {
    const result = await stack.http(method, path, { body, headers: { 'x-correlation-id': correlationId } });
    expect(result.status).toBeLessThan(300);
    return result.body;
  };

  const org = await call('POST', '/v1/organisations', 'c-org', { extId: 'HR', label: 'Human resources' });
  const audience = await call('POST', '/v1/audiences', 'c-aud', { name: 'Managers' });
  const user = await call('POST', '/v1/users', 'c-user', { login: 'hana', lastName: 'Hana', firstName: 'H', organisationId: org.id });
  await call('PATCH', `/v1/users/${user.id}`, 'c-patch', { custom3: 'x' });
  await call('POST', `/v1/users/${user.id}/audiences`, 'c-add-aud', { audienceIds: [audience.id] });
  const list = await call('POST', '/v1/lists', 'c-list', { name: 'HR team', type: 'static', memberIds: [user.id] });
  await call('DELETE', `/v1/users/${user.id}`, 'c-delete');

  await stack.identity.flushEvents();
  const events = (await readStream(stack.identity.bus, 'IDENTITY')).slice(before);
  expect(events.map((e) => [e.subject, e.correlationId])).toEqual([
    ['identity.organisation.created.v1', 'c-org'],
    ['identity.audience.created.v1', 'c-aud'],
    ['identity.user.created.v1', 'c-user'],
    ['identity.user.updated.v1', 'c-patch'],
    ['identity.user.updated.v1', 'c-add-aud'],
    ['identity.list.created.v1', 'c-list'],
    ['identity.list-member.entered.v1', 'c-list'],
    ['identity.list-member.left.v1', 'c-delete'],
    ['identity.user.deleted.v1', 'c-delete'],
  ]);
  expect(events[3].data).toMatchObject({ user: { id: user.id, custom3: 'x' }, changedFields: ['custom3'] });
  expect(events[4].data).toMatchObject({ user: { audiences: [{ id: audience.id, name: 'Managers' }] }, changedFields: ['audiences'] });
  expect(events[6].data).toEqual({ listId: list.id, userId: user.id, listType: 'static' });
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  expect(JSON.stringify(events)).not.toMatch(/password_hash|argon2/);
});
