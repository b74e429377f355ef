import type { EventEnvelope } from '@assistants/kit';
import { ListMembershipChanged } from '@assistants/proto/gen/identity/v1/events';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { actorWithin, ADMINISTRATOR_ROLE_ID, EventLog, filter, ROOT_ORGANISATION_ID, UNKNOWN_ID } from './helpers';

/** What other services read from identity to act on users: GetUsersForAction (a batch of a
 * run), ListListMembers and the instant of list entry in membership events (C5/P4 delays). */

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};
let audienceId: string;

async function newUser(login: string, fields: UserFields = {}, audienceIds: string[] = []): Promise<User> {
  const { user } = await api.users.createUser({
    fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: org.north, ...fields },
    audienceIds,
  });
  return user!;
}

/** The membership events among `events`: [verb, user id, enteredAt]. */
function memberships(events: EventEnvelope[], listId: string): [string, string, string][] {
  return events
    .filter((e) => e.subject.startsWith('identity.list-member.'))
    .map((e) => [e.subject.split('.')[2], ListMembershipChanged.fromJSON(e.data)] as const)
    .filter(([, m]) => m.listId === listId)
    .map(([verb, m]) => [verb, m.userId, m.enteredAt]);
}

async function enteredAtRows(listId: string): Promise<Map<string, string>> {
  const { rows } = await identity.db.query<{ user_id: string; entered_at: Date }>(
    'SELECT user_id, entered_at FROM list_members WHERE list_id = $1',
    [listId],
  );
  return new Map(rows.map((r) => [r.user_id, r.entered_at.toISOString()]));
}

beforeAll(async () => {
  fixture = await startIdentityFixture('for_services');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  for (const key of ['north', 'south']) {
    const { organisation } = await api.organisations.createOrganisation({ fields: { extId: key.toUpperCase(), label: key } });
    org[key] = organisation!.id;
  }
  audienceId = (await api.audiences.createAudience({ name: 'Sellers', description: '' })).audience!.id;
  // A permission another service declares, as the assignment service does when it starts.
  await fixture.client.roles.registerPermissions({
    service: 'assignment',
    permissions: [{ name: 'assignments:write', description: 'assign courses', rootOnly: false, service: 'assignment' }],
  });
});

afterAll(() => fixture?.stop());

describe('GetUsersForAction', () => {
  let ann: User;
  let bob: User;
  let boss: User;

  beforeAll(async () => {
    boss = await newUser('gufa-boss');
    ann = await newUser(
      'gufa-ann',
      { email: 'ann@acme.fr', title: 'Mme', language: 'fr-FR', firstName: 'Ann', lastName: 'Able', managerId: boss.id },
      [audienceId],
    );
    bob = await newUser('gufa-bob', { organisationId: org.south, disabled: true });
  });

  it('answers each requested id in order: found, in scope, and what an action reads', async () => {
    const { users } = await api.users.getUsersForAction({
      userIds: [ann.id, UNKNOWN_ID, 'not-an-id', bob.id.toUpperCase(), ann.id],
      permission: 'assignments:write',
    });
    expect(users).toEqual([
      {
        id: ann.id,
        found: true,
        inScope: true,
        audienceIds: [audienceId],
        login: 'gufa-ann',
        firstName: 'Ann',
        lastName: 'Able',
        title: 'Mme',
        email: 'ann@acme.fr',
        language: 'fr-FR',
        organisationId: org.north,
        organisationName: 'north',
        managerId: boss.id,
        managerName: 'Test GUFA-BOSS',
        disabled: false,
        // Only asked with checkCovered.
        covered: false,
      },
      expect.objectContaining({ id: UNKNOWN_ID, found: false, inScope: false, login: '' }),
      expect.objectContaining({ id: 'not-an-id', found: false, inScope: false }),
      expect.objectContaining({ id: bob.id.toUpperCase(), found: true, inScope: true, login: 'gufa-bob', disabled: true }),
    ]);
  });

  it('tells a scoped administrator which users lie outside its scope, and nothing else of them', async () => {
    const scoped = await actorWithin(fixture, [org.north], ['assignments:write']);
    const { users } = await scoped.users.getUsersForAction({ userIds: [ann.id, bob.id], permission: 'assignments:write' });
    expect(users[0]).toMatchObject({ id: ann.id, found: true, inScope: true, login: 'gufa-ann', organisationId: org.north });
    expect(users[1]).toEqual({
      id: bob.id,
      found: true,
      inScope: false,
      audienceIds: [],
      login: '',
      firstName: '',
      lastName: '',
      title: '',
      email: '',
      language: '',
      organisationId: '',
      organisationName: '',
      managerId: '',
      managerName: '',
      disabled: false,
      covered: false,
    });
    // The scope is that of the permission asked: held nowhere, refused.
    await expect(scoped.users.getUsersForAction({ userIds: [ann.id], permission: 'users:write' })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('by login (an import): each distinct login once, case-insensitively, in order; outside the scope only the id', async () => {
    const scoped = await actorWithin(fixture, [org.north], ['assignments:write']);
    const { users } = await scoped.users.getUsersForActionByLogin({
      logins: ['GUFA-Ann', 'nobody-here', 'gufa-bob', 'gufa-ann'],
      permission: 'assignments:write',
    });
    expect(users).toEqual([
      expect.objectContaining({ id: ann.id, found: true, inScope: true, login: 'gufa-ann', audienceIds: [audienceId] }),
      expect.objectContaining({ id: '', found: false, inScope: false, login: 'nobody-here' }),
      expect.objectContaining({ id: bob.id, found: true, inScope: false, login: 'gufa-bob', organisationId: '', email: '' }),
    ]);
    await expect(scoped.users.getUsersForActionByLogin({ logins: ['gufa-ann'], permission: 'users:write' })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('with checkCovered, tells whether the acting user holds every grant of each user', async () => {
    const scoped = await actorWithin(fixture, [org.north], ['assignments:write', 'users:write']);
    const stronger = await newUser('gufa-stronger');
    await api.roles.grantRoles({ userIds: [stronger.id], roleIds: [ADMINISTRATOR_ROLE_ID], organisationId: ROOT_ORGANISATION_ID });
    const { users } = await scoped.users.getUsersForAction({
      userIds: [ann.id, stronger.id, bob.id],
      permission: 'assignments:write',
      checkCovered: true,
    });
    expect(users.map((u) => [u.id, u.inScope, u.covered])).toEqual([
      [ann.id, true, true],
      [stronger.id, true, false],
      [bob.id, false, false],
    ]);
  });

  it('answers 2,000 ids in one call', async () => {
    const { rows } = await identity.db.query<{ id: string }>(
      `INSERT INTO users (login, last_name, first_name, organisation_id)
       SELECT 'gufa-many-' || n, 'Many', 'Test', $1 FROM generate_series(1, 1999) n RETURNING id`,
      [org.south],
    );
    const ids = [ann.id, ...rows.map((r) => r.id)];
    const scoped = await actorWithin(fixture, [org.north], ['assignments:write']);
    const started = Date.now();
    const { users } = await scoped.users.getUsersForAction({ userIds: ids, permission: 'assignments:write' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(users.map((u) => u.id)).toEqual(ids);
    expect(users.filter((u) => u.inScope).map((u) => u.id)).toEqual([ann.id]);
    expect(users.every((u) => u.found)).toBe(true);
  });
});

describe('ListListMembers and the instant of entry', () => {
  it('gives each static member the instant it was added, as its entered event does', async () => {
    const [ann, bob] = [await newUser('llm-ann'), await newUser('llm-bob')];
    const created = await log.act(() =>
      api.lists.createList({
        ownerOrganisationId: '',
        name: 'LLM static',
        description: '',
        type: 'static',
        folderId: '',
        memberIds: [ann.id],
      }),
    );
    const list = created.result.list!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const added = await log.act(() => api.lists.addListMembers({ listId: list.id, userIds: [bob.id] }));

    const rows = await enteredAtRows(list.id);
    expect(memberships(created.events, list.id)).toEqual([['entered', ann.id, rows.get(ann.id)]]);
    expect(memberships(added.events, list.id)).toEqual([['entered', bob.id, rows.get(bob.id)]]);
    expect(Date.parse(rows.get(bob.id)!)).toBeGreaterThan(Date.parse(rows.get(ann.id)!));

    const { members, total, nextCursor } = await api.lists.listListMembers({ listId: list.id, page: { limit: 0, offset: 0, after: '' } });
    expect(total).toBe(2);
    expect(nextCursor).toBe('');
    expect(members).toEqual([ann.id, bob.id].sort().map((userId) => ({ userId, enteredAt: rows.get(userId) })));

    const removed = await log.act(() => api.lists.removeListMembers({ listId: list.id, userIds: [ann.id] }));
    const [[verb, userId, leftAt]] = memberships(removed.events, list.id);
    expect([verb, userId]).toEqual(['left', ann.id]);
    expect(Date.parse(leftAt)).toBeGreaterThanOrEqual(Date.parse(rows.get(bob.id)!));
  });

  it('gives each dynamic member the instant its criteria started matching', async () => {
    const early = await newUser('llm-dyn-early', { custom3: 'dyn-llm' });
    const created = await log.act(() =>
      api.lists.createList({
        ownerOrganisationId: '',
        name: 'LLM dynamic',
        description: '',
        type: 'dynamic',
        folderId: '',
        criteria: filter({ custom3: 'dyn-llm' }),
        memberIds: [],
      }),
    );
    const list = created.result.list!;
    const late = await newUser('llm-dyn-late');
    const changed = await log.act(() => api.users.updateUser({ id: late.id, fields: { custom3: 'dyn-llm' } }));
    const rows = await enteredAtRows(list.id);
    expect(memberships(created.events, list.id)).toEqual([['entered', early.id, rows.get(early.id)]]);
    expect(memberships(changed.events, list.id)).toEqual([['entered', late.id, rows.get(late.id)]]);
    expect(Date.parse(rows.get(late.id)!)).toBeGreaterThan(Date.parse(rows.get(early.id)!));

    const left = await log.act(() => api.users.updateUser({ id: early.id, fields: { custom3: '' } }));
    const [[verb, userId, leftAt]] = memberships(left.events, list.id);
    expect([verb, userId]).toEqual(['left', early.id]);
    expect(Date.parse(leftAt)).toBeGreaterThan(Date.parse(rows.get(late.id)!));

    const { members } = await api.lists.listListMembers({ listId: list.id, page: undefined });
    expect(members).toEqual([{ userId: late.id, enteredAt: rows.get(late.id) }]);
  });

  it('pages by user id with a cursor, and counts within the caller’s scope', async () => {
    const north = await Promise.all([1, 2, 3, 4, 5].map((n) => newUser(`llm-page-n${n}`)));
    const south = await Promise.all([1, 2].map((n) => newUser(`llm-page-s${n}`, { organisationId: org.south })));
    const { list } = await api.lists.createList({
      ownerOrganisationId: '',
      name: 'LLM paged',
      description: '',
      type: 'static',
      folderId: '',
      memberIds: [...north, ...south].map((u) => u.id),
    });
    const walk = async (as: IdentityClient) => {
      const seen: string[] = [];
      let after = '';
      const totals = new Set<number>();
      do {
        const page = await as.lists.listListMembers({ listId: list!.id, page: { limit: 2, offset: 0, after } });
        seen.push(...page.members.map((m) => m.userId));
        totals.add(page.total);
        after = page.nextCursor;
      } while (after !== '');
      return { seen, totals: [...totals] };
    };
    expect(await walk(api)).toEqual({ seen: [...north, ...south].map((u) => u.id).sort(), totals: [7] });

    // A list owned by the root is invisible to an administrator of north only; one owned by
    // north shows it its own members.
    const scoped = await actorWithin(fixture, [org.north], ['users:read']);
    await expect(scoped.lists.listListMembers({ listId: list!.id, page: undefined })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: 'listId',
    });
    const { list: northList } = await api.lists.createList({
      ownerOrganisationId: org.north,
      name: 'LLM north',
      description: '',
      type: 'static',
      folderId: '',
      memberIds: north.map((u) => u.id),
    });
    const page = await scoped.lists.listListMembers({ listId: northList!.id, page: { limit: 5000, offset: 0, after: '' } });
    expect(page.total).toBe(5);

    const bad = (p: { limit: number; offset: number; after: string }) =>
      api.lists.listListMembers({ listId: list!.id, page: p }).catch((e: unknown) => e);
    expect(await bad({ limit: 5001, offset: 0, after: '' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.limit' });
    expect(await bad({ limit: 2, offset: 2, after: '' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.offset' });
    expect(await bad({ limit: 2, offset: 0, after: 'garbage!' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.after' });
  });
});

describe('GetOrganisationsForAction', () => {
  it('answers each organisation: found, in the scope of the permission, its ancestors from the root', async () => {
    const { organisation: city } = await api.organisations.createOrganisation({
      fields: { extId: 'NORTH-CITY', label: 'North city', parentId: org.north },
    });
    const scoped = await actorWithin(fixture, [org.north], ['assignments:write']);
    const { organisations } = await scoped.organisations.getOrganisationsForAction({
      organisationIds: [city!.id, org.south, UNKNOWN_ID, 'not-an-id'],
      permission: 'assignments:write',
    });
    expect(organisations).toEqual([
      { id: city!.id, found: true, inScope: true, label: 'North city', ancestorIds: [ROOT_ORGANISATION_ID, org.north, city!.id] },
      { id: org.south, found: true, inScope: false, label: 'south', ancestorIds: [ROOT_ORGANISATION_ID, org.south] },
      { id: UNKNOWN_ID, found: false, inScope: false, label: '', ancestorIds: [] },
      { id: 'not-an-id', found: false, inScope: false, label: '', ancestorIds: [] },
    ]);
    // Held nowhere: refused as a whole.
    await expect(
      scoped.organisations.getOrganisationsForAction({ organisationIds: [org.north], permission: 'users:write' }),
    ).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    await expect(api.organisations.getOrganisationsForAction({ organisationIds: [org.north], permission: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'permission',
    });
  });
});
