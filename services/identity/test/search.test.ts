import { DomainError } from '@assistants/kit';
import type { UserFilter } from '@assistants/proto/gen/identity/v1/users';
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
  });

  it('pages the result and gives the exact total', async () => {
    const page = await api.users.searchUsers({ filter: filter({}), page: { limit: 2, offset: 1, after: '' } });
    // Enabled users, sorted by last name: Administrator (the bootstrap one), Dupont, Dupuis, Durand, Martin.
    expect(page.total).toBe(5);
    expect(page.users.map((u) => u.login)).toEqual(['jdupont', 'mdupuis']);
    expect(page.users[1].organisationLabel).toBe('north-lille');
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
