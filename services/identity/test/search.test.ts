import { DomainError, ROOT_ORGANISATION_ID } from '@assistants/kit';
import type { UserFilter, UserSelection } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture } from '@assistants/testing';
import { actorWithin, filter } from './helpers';

let fixture: IdentityFixture;
let api: IdentityClient;
const org: Record<string, string> = {};
const user: Record<string, string> = {};

async function logins(f: Partial<UserFilter>, as: IdentityClient = api): Promise<string[]> {
  const { users, total } = await as.users.searchUsers({ filter: filter(f), page: { limit: 100, offset: 0, after: '' } });
  expect(total).toBe(users.length);
  return users.map((u) => u.login).sort();
}

/** The data set of the filter examples in the French documentation, and an org tree:
 *   ROOT > north > north-lille ; ROOT > south */
beforeAll(async () => {
  fixture = await startIdentityFixture('search');
  ({ api } = fixture);
  for (const [key, parent] of [
    ['north', ''],
    ['north-lille', 'north'],
    ['south', ''],
  ]) {
    const { organisation } = await api.organisations.createOrganisation({
      fields: { extId: key.toUpperCase(), label: key, parentId: parent ? org[parent] : undefined },
    });
    org[key] = organisation!.id;
  }
  const { audience } = await api.audiences.createAudience({ name: 'Sales people', description: '' });
  const people: [string, string, string, string, string, boolean, string[]][] = [
    // login, last name, custom1, org, email, disabled, audiences
    ['jdupont', 'Dupont', 'promo 2023', 'north', 'jean@acme.fr', false, [audience!.id]],
    ['mdupuis', 'Dupuis', 'promo 2024', 'north-lille', 'marie@acme.fr', false, []],
    ['pmartin', 'Martin', 'promo 2024', 'south', 'paul@beta.com', false, [audience!.id]],
    ['adurand', 'Durand', 'promo 2022', 'south', 'anne@beta.com', false, []],
    ['odupre', 'Dupré', 'promo 2024', 'north', 'old@acme.fr', true, []],
  ];
  for (const [login, lastName, custom1, orgKey, email, disabled, audienceIds] of people) {
    const { user: created } = await api.users.createUser({
      fields: { login, lastName, firstName: 'X', custom1, organisationId: org[orgKey], email, disabled },
      audienceIds,
    });
    user[login] = created!.id;
  }
});

afterAll(() => fixture?.stop());

describe('SEL-1 user filter', () => {
  it('ALL: name contains "DUP" and custom field 1 contains "2024"', async () => {
    expect(await logins({ lastName: 'DUP', custom1: '2024', match: 'all' })).toEqual(['mdupuis']);
  });

  it('ANY: name contains "DUP", plus everyone whose custom field 1 contains "2024"', async () => {
    expect(await logins({ lastName: 'DUP', custom1: '2024', match: 'any' })).toEqual(['jdupont', 'mdupuis', 'pmartin']);
  });

  it('leaves disabled users out unless asked for', async () => {
    expect(await logins({ lastName: 'dup', includeDisabled: true })).toEqual(['jdupont', 'mdupuis', 'odupre']);
  });

  it('matches "contains" literally and case-insensitively, on every field', async () => {
    expect(await logins({ email: 'BETA.COM' })).toEqual(['adurand', 'pmartin']);
    expect(await logins({ login: 'dupu' })).toEqual(['mdupuis']);
    expect(await logins({ audience: 'sales' })).toEqual(['jdupont', 'pmartin']);
    expect(await logins({ lastName: '%' })).toEqual([]);
  });

  it('browses the organisation tree: one organisation, or its sub-tree', async () => {
    expect(await logins({ organisationId: org.north })).toEqual(['jdupont']);
    expect(await logins({ organisationId: org.north, includeSubOrganisations: true })).toEqual(['jdupont', 'mdupuis']);
    expect(await logins({ organisationId: org.north, includeSubOrganisations: true, custom1: '2024' })).toEqual(['mdupuis']);
    // The root's sub-tree is the whole tree (no restriction left in the statement).
    expect(await logins({ organisationId: ROOT_ORGANISATION_ID, includeSubOrganisations: true })).toEqual(await logins({}));
    expect(await logins({ organisationId: ROOT_ORGANISATION_ID, includeSubOrganisations: true, audience: 'sales' })).toEqual([
      'jdupont',
      'pmartin',
    ]);
    expect(await logins({ organisationId: ROOT_ORGANISATION_ID })).toEqual(['admin']);
  });

  it('pages the result and gives the exact total', async () => {
    const page = await api.users.searchUsers({ filter: filter({}), page: { limit: 2, offset: 1, after: '' } });
    // Enabled users, sorted by last name: Administrator (the bootstrap one), Dupont, Dupuis, Durand, Martin.
    expect(page.total).toBe(5);
    expect(page.users.map((u) => u.login)).toEqual(['jdupont', 'mdupuis']);
    expect(page.users[1].organisationLabel).toBe('north-lille');
    // Past the last match: no user, still the exact total (counted apart from the page).
    const beyond = await api.users.searchUsers({ filter: filter({}), page: { limit: 2, offset: 10, after: '' } });
    expect(beyond).toMatchObject({ users: [], total: 5, nextCursor: '' });
    const none = await api.users.searchUsers({ filter: filter({ lastName: 'no such name' }), page: { limit: 2, offset: 0, after: '' } });
    expect(none).toMatchObject({ users: [], total: 0 });
  });

  it('refuses a malformed filter, naming the field', async () => {
    await expect(api.users.searchUsers({ filter: filter({ match: 'most' }) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'filter.match',
    });
    await expect(api.users.searchUsers({ filter: filter({ organisationId: 'north' }) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'filter.organisationId',
    });
    await expect(api.users.searchUsers({ filter: filter({}), page: { limit: 10_000, offset: 0, after: '' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'page.limit',
    });
  });

  it('answers NOT_FOUND for an unknown organisation', async () => {
    const err = await api.users
      .searchUsers({ filter: filter({ organisationId: '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b' }) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', field: 'filter.organisationId' });
  });
});

describe('scope', () => {
  let north: IdentityClient;
  let lille: IdentityClient;

  beforeAll(async () => {
    north = await actorWithin(fixture, [org.north]);
    lille = await actorWithin(fixture, [org['north-lille']]);
  });

  it('restricts every search to the sub-trees of the scope', async () => {
    expect(await logins({}, north)).toEqual(['jdupont', 'mdupuis']);
    expect(await logins({ custom1: '2024', match: 'any' }, north)).toEqual(['mdupuis']);
    expect(await logins({ organisationId: org['north-lille'], includeSubOrganisations: true }, lille)).toEqual(['mdupuis']);
    expect(await logins({ organisationId: org.north, includeSubOrganisations: true, custom1: '2024' }, north)).toEqual(['mdupuis']);
    expect(await logins({ organisationId: org.north, includeSubOrganisations: true, audience: 'sales' }, north)).toEqual(['jdupont']);
    await expect(logins({ organisationId: ROOT_ORGANISATION_ID, includeSubOrganisations: true }, north)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: 'filter.organisationId',
    });
    await expect(logins({ organisationId: org.north }, lille)).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'filter.organisationId' });
  });

  it('hides users and organisations outside the scope, for reading and for changing', async () => {
    await expect(north.users.getUser({ id: user.pmartin, login: '', extId: '' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(north.users.updateUser({ id: user.pmartin, fields: { custom2: 'x' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(north.users.deleteUser({ id: user.pmartin })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // Nor can a user be moved (or created) into an organisation outside the scope.
    await expect(north.users.updateUser({ id: user.jdupont, fields: { organisationId: org.south } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: 'organisationId',
    });
    await expect(north.organisations.getOrganisation({ id: org.south, extId: '' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const { user: still } = await api.users.getUser({ id: user.pmartin, login: '', extId: '' });
    expect(still?.custom2).toBe('');
  });

  it('needs an acting user', async () => {
    await expect(fixture.client.users.searchUsers({ filter: filter({}) })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('SEL-1..3 selections', () => {
  it('resolves ids, a filter minus removed ids, or a list, through the scope', async () => {
    const resolve = async (selection: object, as: IdentityClient = api) =>
      (await as.users.resolveUserSelection({ selection: { excludeIds: [], ...selection } })).users.map((u) => u.login).sort();

    expect(await resolve({ ids: { ids: [user.pmartin, user.jdupont] } })).toEqual(['jdupont', 'pmartin']);
    expect(await resolve({ filter: filter({ custom1: '2024' }), excludeIds: [user.pmartin] })).toEqual(['mdupuis']);
    expect(await resolve({ ids: { ids: [user.pmartin, user.jdupont] } }, await actorWithin(fixture, [org.north]))).toEqual(['jdupont']);

    const { list } = await api.lists.createList({
      ownerOrganisationId: '',
      name: 'Dupont and Durand',
      description: '',
      type: 'static',
      folderId: '',
      memberIds: [user.jdupont, user.adurand],
    });
    expect(await resolve({ listId: list!.id })).toEqual(['adurand', 'jdupont']);
    expect(await resolve({ listId: list!.id, excludeIds: [user.adurand] })).toEqual(['jdupont']);
    await expect(resolve({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'selection' });
  });
});

describe('paging through a result', () => {
  const ids: string[] = [];
  let pagingOrg: string;
  const byName = (f: Partial<UserFilter>, page: { limit: number; offset?: number; after?: string }) =>
    api.users.searchUsers({ filter: filter(f), page: { offset: 0, after: '', ...page } });

  /** 22 enabled users (and a disabled one) whose names tie and differ only by case or accents. */
  beforeAll(async () => {
    const { organisation } = await api.organisations.createOrganisation({ fields: { extId: 'PAGING', label: 'paging' } });
    pagingOrg = organisation!.id;
    const names = [
      ['Abel', 'Jean'],
      ['Abel', 'Jean'],
      ['Abel', 'Jean'],
      ['Abel', 'Ève'],
      ['abel', 'jean'],
      ['Zola', 'Émile'],
      ['zola', 'émile'],
      ['Élan', 'Zoé'],
      ['de Gaulle', 'Charles'],
      ['De Gaulle', 'Charles'],
      ["O'Neil", 'Ryan'],
      ['Ñúñez', 'Ana'],
      ['Martin', 'Paul'],
      ['Martin', 'Paula'],
      ['Martin', 'Paul'],
      ['Martin-Durand', 'Lou'],
      ['Lefèvre', 'Léa'],
      ['Lefebvre', 'Léo'],
      ['Dupont', 'Jean'],
      ['Dupont', 'Jeanne'],
      ['Dupond', 'Jean'],
      ['Öztürk', 'Ayşe'],
      ['Hidden', 'Disabled'],
    ];
    for (const [i, [lastName, firstName]] of names.entries()) {
      const { user: created } = await api.users.createUser({
        fields: { login: `paging${i}`, lastName, firstName, organisationId: pagingOrg, disabled: lastName === 'Hidden' },
        audienceIds: [],
      });
      ids.push(created!.id);
    }
  });

  /** The enabled users of the paging organisation in name order, straight from the table. */
  async function inNameOrder(): Promise<string[]> {
    const { rows } = await fixture.identity.db.query<{ id: string }>(
      'SELECT id FROM users WHERE organisation_id = $1 AND NOT disabled ORDER BY last_name, first_name, id',
      [pagingOrg],
    );
    return rows.map((r) => r.id);
  }

  it('walks a whole result with page.after: every matching user once, in name order', async () => {
    const expected = await inNameOrder();
    expect(expected).toHaveLength(22);
    for (const limit of [1, 5, 11, 22, 50]) {
      const seen: string[] = [];
      let after = '';
      let pages = 0;
      do {
        const page = await byName({ organisationId: pagingOrg }, { limit, after });
        expect(page.total).toBe(22);
        expect(page.users.length).toBeLessThanOrEqual(limit);
        seen.push(...page.users.map((u) => u.id));
        after = page.nextCursor;
        pages++;
      } while (after !== '' && pages < 30);
      expect({ limit, pages, seen }).toEqual({ limit, pages: Math.ceil(22 / limit), seen: expected });
    }
  });

  it('walks a resolved selection the same way, and continues an offset page with its cursor', async () => {
    const expected = await inNameOrder();
    const resolve = (after: string) =>
      api.users.resolveUserSelection({
        selection: { filter: filter({ organisationId: pagingOrg }), excludeIds: [ids[0]] },
        page: { limit: 8, offset: 0, after },
      });
    const first = await resolve('');
    const second = await resolve(first.nextCursor);
    const third = await resolve(second.nextCursor);
    expect(third.nextCursor).toBe('');
    expect([...first.users, ...second.users, ...third.users].map((u) => u.id)).toEqual(expected.filter((id) => id !== ids[0]));

    const offsetPage = await byName({ organisationId: pagingOrg }, { limit: 4, offset: 6 });
    expect(offsetPage.users.map((u) => u.id)).toEqual(expected.slice(6, 10));
    const next = await byName({ organisationId: pagingOrg }, { limit: 4, after: offsetPage.nextCursor });
    expect(next.users.map((u) => u.id)).toEqual(expected.slice(10, 14));
    // A filter on names, whose matches cluster in the alphabet, pages the same way.
    const martins = await byName({ organisationId: pagingOrg, lastName: 'MARTIN' }, { limit: 2 });
    const more = await byName({ organisationId: pagingOrg, lastName: 'MARTIN' }, { limit: 2, after: martins.nextCursor });
    expect(more.nextCursor).toBe('');
    expect([...martins.users, ...more.users].map((u) => `${u.lastName} ${u.firstName}`)).toEqual([
      'Martin Paul',
      'Martin Paul',
      'Martin Paula',
      'Martin-Durand Lou',
    ]);
  });

  it('lists the ids and logins of a whole selection in large pages (for a run), in the same order, the total first', async () => {
    const expected = await inNameOrder();
    const selection = { filter: filter({ organisationId: pagingOrg }), excludeIds: [ids[0]] };
    const walk = async (limit: number, as: IdentityClient = api, from: UserSelection = selection) => {
      const seen: { id: string; login: string }[] = [];
      const totals: number[] = [];
      let after = '';
      do {
        const page = await as.users.listSelectedUsers({ selection: from, limit, after });
        seen.push(...page.users);
        totals.push(page.total);
        after = page.nextCursor;
      } while (after !== '');
      return { seen, totals };
    };
    const { seen, totals } = await walk(8);
    expect(seen.map((u) => u.id)).toEqual(expected.filter((id) => id !== ids[0]));
    expect(seen[0].login).toMatch(/^paging\d+$/);
    expect(totals).toEqual([21, 0, 0]);
    expect((await walk(0)).totals).toEqual([21]);
    // Through the scope: an administrator of another organisation selects nobody here.
    const north = await actorWithin(fixture, [org.north]);
    expect(await walk(10, north, { ids: { ids }, excludeIds: [] })).toEqual({ seen: [], totals: [0] });

    await expect(api.users.listSelectedUsers({ selection, limit: 10_001, after: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'limit',
    });
    await expect(api.users.listSelectedUsers({ selection, limit: 5, after: 'bm9wZQ' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'after',
    });
    await expect(api.users.listSelectedUsers({ selection: { excludeIds: [] }, limit: 5, after: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'selection',
    });
  });

  it('refuses an offset past 10,000, telling to page with page.after', async () => {
    await expect(byName({}, { limit: 10, offset: 10_000 })).resolves.toMatchObject({ users: [] });
    const err = await byName({}, { limit: 10, offset: 10_001 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.offset' });
    expect((err as Error).message).toContain('page.after');
    await expect(
      api.users.resolveUserSelection({
        selection: { ids: { ids: [ids[1]] }, excludeIds: [] },
        page: { limit: 10, offset: 20_000, after: '' },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.offset' });
  });

  it('refuses a cursor it did not give, and a cursor with an offset', async () => {
    const { nextCursor } = await byName({ organisationId: pagingOrg }, { limit: 3 });
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const after of [
      'not a cursor!',
      'bm90IGpzb24',
      encode({ lastName: 'Abel' }),
      encode(['Abel', 'Jean']),
      encode(['Abel', 'Jean', 'not-an-id']),
      encode(['Abel', 'Jean\u0000', ids[0]]),
      'A'.repeat(5_000),
    ]) {
      await expect(byName({}, { limit: 3, after })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.after' });
    }
    await expect(byName({}, { limit: 3, offset: 3, after: nextCursor })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'page.offset',
    });
  });

  it('finds users as they are now: the search follows every change to them', async () => {
    const found = async (f: Partial<UserFilter>) =>
      (await byName({ organisationId: pagingOrg, ...f }, { limit: 50 })).users.map((u) => u.id);
    const id = ids[12];
    expect(await found({ lastName: 'martin', firstName: 'paul' })).toContain(id);
    await api.users.updateUser({ id, fields: { lastName: 'Ésope', custom3: 'ÂGE DE PIERRE' } });
    expect(await found({ lastName: 'martin', firstName: 'paul' })).not.toContain(id);
    // Case-insensitive as lower() folds: É and é, Â and â.
    expect(await found({ lastName: 'ésope' })).toEqual([id]);
    expect(await found({ lastName: 'ÉSO', custom3: 'âge', match: 'all' })).toEqual([id]);
    await api.users.updateUser({ id, fields: { disabled: true } });
    expect(await found({ lastName: 'ésope' })).toEqual([]);
    expect(await found({ lastName: 'ésope', includeDisabled: true })).toEqual([id]);
    await api.users.updateUser({ id, fields: { organisationId: org.south } });
    expect(await found({ lastName: 'ésope', includeDisabled: true })).toEqual([]);
    expect(await logins({ lastName: 'ésope', includeDisabled: true, organisationId: org.south })).toEqual(['paging12']);
    await api.users.deleteUser({ id });
    expect(await logins({ lastName: 'ésope', includeDisabled: true })).toEqual([]);
    const { rows } = await fixture.identity.db.query('SELECT count(*)::int AS n FROM user_search WHERE id = $1', [id]);
    expect(rows[0].n).toBe(0);
  });
});
