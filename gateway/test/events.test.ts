import { basic, readStream, startStack, type TestStack } from '@assistants/testing';

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
  expect(events[6].data).toEqual({ listId: list.id, userId: user.id, listType: 'static', enteredAt: expect.any(String) });
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  expect(JSON.stringify(events)).not.toMatch(/password_hash|argon2/);
});

it('publishes exactly its events for every route that changes something, and none for a change that changes nothing', async () => {
  let n = 0;
  /** Calls a route; returns its body and the subjects it published, in order. */
  const step = async (method: string, path: string, body?: object, auth?: string) => {
    await stack.identity.flushEvents();
    const before = (await readStream(stack.identity.bus, 'IDENTITY')).length;
    const correlationId = `route-${++n}`;
    const result = await stack.http(method, path, { body, auth, headers: { 'x-correlation-id': correlationId } });
    if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
    await stack.identity.flushEvents();
    const events = (await readStream(stack.identity.bus, 'IDENTITY')).slice(before);
    expect(events.every((e) => e.correlationId === correlationId)).toBe(true);
    return { body: result.body, subjects: events.map((e) => e.subject.replace(/^identity\./, '').replace(/\.v1$/, '')) };
  };

  const org = await step('POST', '/v1/organisations', { extId: 'OPS', label: 'Operations' });
  expect(org.subjects).toEqual(['organisation.created']);
  expect((await step('PATCH', `/v1/organisations/${org.body.id}`, { label: 'Ops' })).subjects).toEqual(['organisation.updated']);
  expect((await step('PATCH', `/v1/organisations/${org.body.id}`, { label: 'Ops' })).subjects).toEqual([]);
  const child = await step('POST', '/v1/organisations', { extId: 'OPS-1', label: 'Ops 1', parentId: org.body.id });
  expect((await step('DELETE', `/v1/organisations/${child.body.id}`)).subjects).toEqual(['organisation.deleted']);

  const audience = await step('POST', '/v1/audiences', { name: 'Night shift' });
  expect(audience.subjects).toEqual(['audience.created']);
  expect((await step('PATCH', `/v1/audiences/${audience.body.id}`, { description: 'after 10 pm' })).subjects).toEqual(['audience.updated']);

  const role = await step('POST', '/v1/roles', { name: 'Ops reader', permissions: ['users:read'] });
  expect(role.subjects).toEqual(['role.created']);
  expect((await step('PATCH', `/v1/roles/${role.body.id}`, { description: 'reads' })).subjects).toEqual(['role.updated']);

  const user = await step('POST', '/v1/users', { login: 'omar', lastName: 'Omar', firstName: 'O', organisationId: org.body.id });
  expect(user.subjects).toEqual(['user.created']);
  const id = user.body.id;
  expect((await step('PATCH', `/v1/users/${id}`, { custom1: 'night' })).subjects).toEqual(['user.updated']);
  expect((await step('PATCH', `/v1/users/${id}`, { custom1: 'night' })).subjects).toEqual([]);
  expect((await step('PUT', `/v1/users/${id}/password`, { password: 'omar password 1', mustChangePassword: true })).subjects).toEqual([
    'user.updated',
  ]);
  expect((await step('POST', `/v1/users/${id}/audiences`, { audienceIds: [audience.body.id] })).subjects).toEqual(['user.updated']);
  expect((await step('DELETE', `/v1/users/${id}/audiences/${audience.body.id}`)).subjects).toEqual(['user.updated']);
  expect((await step('POST', `/v1/users/${id}/roles`, { roleIds: [role.body.id], organisationId: org.body.id })).subjects).toEqual([
    'role.granted',
  ]);
  expect((await step('DELETE', `/v1/users/${id}/roles/${role.body.id}?organisationId=${org.body.id}`)).subjects).toEqual(['role.revoked']);
  const omar = basic('omar', 'omar password 1');
  expect(
    (await step('PUT', '/v1/me/password', { currentPassword: 'omar password 1', newPassword: 'omar password 2' }, omar)).subjects,
  ).toEqual(['user.updated']);

  const folder = await step('POST', '/v1/list-folders', { name: 'Ops lists' });
  expect(folder.subjects).toEqual(['list-folder.created']);
  const list = await step('POST', '/v1/lists', { name: 'Ops static', type: 'static', folderId: folder.body.id });
  expect(list.subjects).toEqual(['list.created']);
  expect((await step('POST', `/v1/lists/${list.body.id}/members`, { userIds: [id] })).subjects).toEqual(['list-member.entered']);
  expect((await step('POST', `/v1/lists/${list.body.id}/members/remove`, { userIds: [id] })).subjects).toEqual(['list-member.left']);
  expect((await step('PATCH', `/v1/lists/${list.body.id}`, { description: 'the ops' })).subjects).toEqual(['list.updated']);
  expect((await step('DELETE', `/v1/lists/${list.body.id}`)).subjects).toEqual(['list.deleted']);

  expect((await step('DELETE', `/v1/audiences/${audience.body.id}`)).subjects).toEqual(['audience.deleted']);
  expect((await step('DELETE', `/v1/roles/${role.body.id}`)).subjects).toEqual(['role.deleted']);
  expect((await step('DELETE', `/v1/users/${id}`)).subjects).toEqual(['user.deleted']);
  expect((await step('DELETE', `/v1/organisations/${org.body.id}`)).subjects).toEqual(['organisation.deleted']);

  // Logging in and out changes sessions only: nothing for other services to react to.
  const session = await step('POST', '/v1/sessions');
  expect(session.subjects).toEqual([]);
  expect((await step('DELETE', '/v1/sessions/current', undefined, `Bearer ${session.body.token}`)).subjects).toEqual([]);
});

it('publishes every event when many requests write at once (300 users, 30 at a time)', async () => {
  await stack.identity.flushEvents();
  const before = (await readStream(stack.identity.bus, 'IDENTITY')).length;
  const root = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
  const ids: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stack.http('POST', '/v1/users', {
          body: { login: `many-${batch}-${i}`, lastName: 'Many', firstName: `${batch}-${i}`, organisationId: root },
        }),
      ),
    );
    for (const result of created) {
      expect(result.status).toBe(201);
      ids.push(result.body.id);
    }
  }
  await stack.identity.flushEvents();
  const events = (await readStream(stack.identity.bus, 'IDENTITY')).slice(before);
  const createdIds = events
    .filter((e) => e.subject === 'identity.user.created.v1')
    .map((e) => (e.data as { user: { id: string } }).user.id);
  expect(createdIds.sort()).toEqual(ids.sort());
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
});
