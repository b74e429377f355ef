import { startStack, type TestStack } from '@assistants/testing';

let stack: TestStack;
const org: Record<string, string> = {};
const user: Record<string, string> = {};

/** The data set of the filter examples in the product documentation. */
beforeAll(async () => {
  stack = await startStack();
  for (const extId of ['SALES', 'SUPPORT']) {
    org[extId] = (await stack.http('POST', '/v1/organisations', { body: { extId, label: extId.toLowerCase() } })).body.id;
  }
  const people = [
    ['jdupont', 'Dupont', 'promo 2023', 'SALES'],
    ['mdupuis', 'Dupuis', 'promo 2024', 'SALES'],
    ['pmartin', 'Martin', 'promo 2024', 'SUPPORT'],
    ['adurand', 'Durand', 'promo 2022', 'SUPPORT'],
  ];
  for (const [login, lastName, custom1, orgExtId] of people) {
    const created = await stack.http('POST', '/v1/users', {
      body: { login, lastName, firstName: 'Test', custom1, organisationId: org[orgExtId], email: `${login}@example.com` },
    });
    expect(created.status).toBe(201);
    user[login] = created.body.id;
  }
});

afterAll(async () => {
  await stack?.stop();
});

const search = (filter: object) => stack.http('POST', '/v1/users/search', { body: { filter, limit: 100 } });
const logins = (body: { items: { login: string }[] }) => body.items.map((u) => u.login).sort();

describe('POST /v1/users/search (SEL-1)', () => {
  it('ALL criteria: name contains "DUP" and custom field 1 contains "2024"', async () => {
    const result = await search({ lastName: 'DUP', custom1: '2024', match: 'all' });
    expect(result.status).toBe(200);
    expect(logins(result.body)).toEqual(['mdupuis']);
    expect(result.body.total).toBe(1);
  });

  it('AT LEAST ONE criterion: name contains "DUP", plus custom field 1 contains "2024"', async () => {
    const result = await search({ lastName: 'DUP', custom1: '2024', match: 'any' });
    expect(logins(result.body)).toEqual(['jdupont', 'mdupuis', 'pmartin']);
    expect(result.body.total).toBe(3);
  });

  it('answers 400 naming the field of a malformed filter', async () => {
    const badMatch = await search({ lastName: 'x', match: 'most' });
    expect(badMatch.status).toBe(400);
    expect(badMatch.body).toEqual({
      error: 'invalid_argument',
      field: 'filter.match',
      message: 'filter.match must be one of "all", "any"',
    });

    const unknownField = await search({ lastname: 'x' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body).toMatchObject({ field: 'filter.lastname', message: 'filter.lastname is not a known field' });

    const badOrg = await search({ organisationId: 'sales' });
    expect(badOrg.status).toBe(400);
    expect(badOrg.body.field).toBe('filter.organisationId');

    const badPage = await stack.http('POST', '/v1/users/search', { body: { filter: {}, limit: 5000 } });
    expect(badPage.status).toBe(400);
    expect(badPage.body.field).toBe('limit');
  });

  it('answers 404 for an organisation that does not exist', async () => {
    const result = await search({ organisationId: '6d1f3c2a-7b9e-4f10-8a55-3c2b1d0e9f88' });
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ error: 'not_found', field: 'filter.organisationId' });
  });
});

describe('users', () => {
  it('refuses a duplicate login with 409 and a message naming it, whatever its case', async () => {
    const result = await stack.http('POST', '/v1/users', {
      body: { login: 'JDupont', lastName: 'Other', firstName: 'Jean', organisationId: org.SALES },
    });
    expect(result.status).toBe(409);
    expect(result.body).toEqual({ error: 'already_exists', field: 'login', message: 'login "JDupont" is already used by another user' });
  });

  it('answers 404 when the organisation does not exist', async () => {
    const result = await stack.http('POST', '/v1/users', {
      body: { login: 'nobody', lastName: 'No', firstName: 'Body', organisationId: '6d1f3c2a-7b9e-4f10-8a55-3c2b1d0e9f88' },
    });
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ error: 'not_found', field: 'organisationId' });
    expect((await search({ login: 'nobody' })).body.total).toBe(0);
  });

  it('changes only the fields given, and clears a field given as ""', async () => {
    const changed = await stack.http('PATCH', `/v1/users/${user.pmartin}`, { body: { custom2: 'team B', email: '' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ login: 'pmartin', custom1: 'promo 2024', custom2: 'team B', email: '' });
    const bad = await stack.http('PATCH', `/v1/users/${user.pmartin}`, { body: { birthDate: '1990-02-30' } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('birthDate');
    expect((await stack.http('GET', `/v1/users/${user.pmartin}`)).body.birthDate).toBe('');
  });

  it('never shows a password or its hash', async () => {
    const created = await stack.http('POST', '/v1/users', {
      body: { login: 'withpw', lastName: 'With', firstName: 'Password', organisationId: org.SALES, password: 'a long secret 1' },
    });
    expect(created.status).toBe(201);
    expect(created.body.hasPassword).toBe(true);
    expect(JSON.stringify(created.body)).not.toMatch(/secret|argon2/);
  });
});

describe('POST /v1/selections/users/resolve (SEL-1..3)', () => {
  const resolve = (selection: object, page: object = {}) =>
    stack.http('POST', '/v1/selections/users/resolve', { body: { selection, ...page } });

  it('resolves "everything this filter matches, minus these ids", page by page', async () => {
    const first = await resolve({ type: 'filter', filter: { lastName: 'du' }, excludeIds: [user.adurand] }, { limit: 1 });
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(2);
    expect(first.body.items.map((u: { login: string }) => u.login)).toEqual(['jdupont']);
    const second = await resolve({ type: 'filter', filter: { lastName: 'du' }, excludeIds: [user.adurand] }, { limit: 1, offset: 1 });
    expect(second.body.items.map((u: { login: string }) => u.login)).toEqual(['mdupuis']);
  });

  it('resolves "these ids" and a list', async () => {
    const ids = await resolve({ type: 'ids', ids: [user.pmartin, user.jdupont] });
    expect(logins(ids.body)).toEqual(['jdupont', 'pmartin']);

    const list = await stack.http('POST', '/v1/lists', {
      body: { name: 'Promo 2024', type: 'dynamic', criteria: { custom1: '2024' } },
    });
    expect(list.status).toBe(201);
    expect(list.body.memberCount).toBe(2);
    const members = await resolve({ type: 'list', listId: list.body.id, excludeIds: [user.pmartin] });
    expect(logins(members.body)).toEqual(['mdupuis']);
  });

  it('walks a whole selection with the cursor, each user once, in name order; offsets stop at 10,000', async () => {
    const everyone = await resolve({ type: 'filter', filter: {} }, { limit: 500 });
    expect(everyone.body.nextCursor).toBe('');
    const seen: string[] = [];
    let after = '';
    do {
      const page = await resolve({ type: 'filter', filter: {} }, { limit: 2, after });
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(everyone.body.total);
      seen.push(...page.body.items.map((u: { login: string }) => u.login));
      after = page.body.nextCursor;
    } while (after !== '');
    expect(seen).toEqual(everyone.body.items.map((u: { login: string }) => u.login));
    expect(seen).toHaveLength(everyone.body.total);

    const far = await resolve({ type: 'filter', filter: {} }, { offset: 10_001 });
    expect(far.status).toBe(400);
    expect(far.body.field).toBe('offset');
    const bad = await resolve({ type: 'filter', filter: {} }, { after: 'not-a-cursor' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('page.after');
  });

  it('refuses a selection of no known kind', async () => {
    const result = await resolve({ type: 'everyone' });
    expect(result.status).toBe(400);
  });
});
