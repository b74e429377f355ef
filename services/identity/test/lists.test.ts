import type { EventEnvelope } from '@assistants/kit';
import { ListChanged, ListDeleted, ListFolderChanged, ListMembershipChanged } from '@assistants/proto/gen/identity/v1/events';
import type { ListFilter, UserList } from '@assistants/proto/gen/identity/v1/lists';
import type { User, UserFields, UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { DEFAULT_FOLDER_ID, EventLog, expectEnvelopes, filter, subjects, UNKNOWN_ID, actorWithin } from './helpers';

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};

async function newUser(login: string, fields: UserFields = {}, audienceIds: string[] = []): Promise<User> {
  const { user } = await api.users.createUser({
    fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: org.north, ...fields },
    audienceIds,
  });
  return user!;
}

const update = (id: string, fields: UserFields) => api.users.updateUser({ id, fields });

async function newList(
  name: string,
  type: 'static' | 'dynamic',
  options: { criteria?: Partial<UserFilter>; memberIds?: string[]; folderId?: string; description?: string } = {},
) {
  const { list } = await api.lists.createList({
    ownerOrganisationId: '',
    name,
    description: options.description ?? '',
    type,
    folderId: options.folderId ?? '',
    criteria: options.criteria ? filter(options.criteria) : undefined,
    memberIds: options.memberIds ?? [],
  });
  return list!;
}

/** Logins of a list's members, sorted. */
async function members(listId: string): Promise<string[]> {
  const { users, total } = await api.users.resolveUserSelection({
    selection: { listId, excludeIds: [] },
    page: { limit: 500, offset: 0, after: '' },
  });
  expect(total).toBe(users.length);
  return users.map((u) => u.login).sort();
}

/** The membership events among `events`, as [subject verb, list id, user id, list type]. */
function memberships(events: EventEnvelope[], listId?: string): [string, string, string, string][] {
  return events
    .filter((e) => e.subject.startsWith('identity.list-member.'))
    .map((e) => {
      const m = ListMembershipChanged.fromJSON(e.data);
      return [e.subject.split('.')[2], m.listId, m.userId, m.listType] as [string, string, string, string];
    })
    .filter(([, id]) => listId === undefined || id === listId)
    .sort((a, b) => a.join().localeCompare(b.join()));
}

const sorted = <T>(items: [string, string, string, string][]) => [...items].sort((a, b) => a.join().localeCompare(b.join())) as T;

beforeAll(async () => {
  fixture = await startIdentityFixture('lists');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  for (const [key, parent] of [
    ['north', ''],
    ['lille', 'north'],
    ['south', ''],
    ['branch', 'south'],
  ]) {
    const { organisation } = await api.organisations.createOrganisation({
      fields: { extId: key.toUpperCase(), label: key, parentId: parent ? org[parent] : undefined },
    });
    org[key] = organisation!.id;
  }
});

afterAll(() => fixture?.stop());

describe('folders', () => {
  it('has a Default folder', async () => {
    const { folders } = await api.lists.listListFolders({});
    expect(folders).toContainEqual({ id: DEFAULT_FOLDER_ID, name: 'Default', parentId: '' });
  });

  it('creates folders, publishing identity.list-folder.created.v1; names are unique within a parent', async () => {
    const { result, events, correlationId } = await log.act(() => api.lists.createListFolder({ name: 'Training', parentId: '' }));
    const training = result.folder!;
    expect(training).toMatchObject({ name: 'Training', parentId: '' });
    expect(subjects(events)).toEqual(['identity.list-folder.created.v1']);
    expectEnvelopes(events, correlationId);
    expect(ListFolderChanged.fromJSON(events[0].data)).toEqual({ folder: training });

    for (const name of ['training', 'DEFAULT']) {
      const err = await log.refused(() => api.lists.createListFolder({ name, parentId: '' }));
      expect(err).toMatchObject({ code: 'ALREADY_EXISTS', field: 'name' });
      expect(err.message).toContain(name);
    }
    // The same name under another parent is another folder.
    const { folder: sub } = await api.lists.createListFolder({ name: 'Training', parentId: training.id });
    expect(sub).toMatchObject({ name: 'Training', parentId: training.id });
    const { folders } = await api.lists.listListFolders({});
    expect(folders.filter((f) => f.name.toLowerCase() === 'training')).toHaveLength(2);

    expect(await log.refused(() => api.lists.createListFolder({ name: 'x', parentId: UNKNOWN_ID }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'parentId',
    });
    expect(await log.refused(() => api.lists.createListFolder({ name: ' ', parentId: '' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'name',
    });
  });

  it('puts a list in the Default folder unless told otherwise', async () => {
    const { folder } = await api.lists.createListFolder({ name: 'Elsewhere', parentId: '' });
    expect((await newList('In default', 'static')).folderId).toBe(DEFAULT_FOLDER_ID);
    expect((await newList('In elsewhere', 'static', { folderId: folder!.id })).folderId).toBe(folder!.id);
    expect(
      await log.refused(() =>
        api.lists.createList({
          ownerOrganisationId: '',
          name: 'Nowhere',
          description: '',
          type: 'static',
          folderId: UNKNOWN_ID,
          memberIds: [],
        }),
      ),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'folderId' });
  });
});

describe('static lists', () => {
  let ann: User;
  let bob: User;
  let cat: User;

  beforeAll(async () => {
    ann = await newUser('s-ann');
    bob = await newUser('s-bob');
    cat = await newUser('s-cat', { organisationId: org.south });
  });

  it('is created with its members: identity.list.created.v1, then one entered event each', async () => {
    const { result, events, correlationId } = await log.act(() =>
      api.lists.createList({
        ownerOrganisationId: '',
        name: 'Static one',
        description: 'first',
        type: 'static',
        folderId: '',
        memberIds: [ann.id, bob.id, ann.id],
      }),
    );
    const list = result.list!;
    expect(list).toMatchObject({
      name: 'Static one',
      description: 'first',
      type: 'static',
      disabled: false,
      memberCount: 2,
      criteria: undefined,
    });
    expect(await members(list.id)).toEqual(['s-ann', 's-bob']);

    expectEnvelopes(events, correlationId);
    expect(events[0].subject).toBe('identity.list.created.v1');
    expect(ListChanged.fromJSON(events[0].data).list).toMatchObject({ id: list.id, name: 'Static one', type: 'static' });
    expect(memberships(events)).toEqual(
      sorted([
        ['entered', list.id, ann.id, 'static'],
        ['entered', list.id, bob.id, 'static'],
      ]),
    );
    expect(events).toHaveLength(3);
  });

  it('gains and loses members one event each, and only for real changes', async () => {
    const list = await newList('Static two', 'static', { memberIds: [ann.id] });

    const added = await log.act(() => api.lists.addListMembers({ listId: list.id, userIds: [ann.id, bob.id, cat.id] }));
    expect(added.result.added).toBe(2);
    expect(await members(list.id)).toEqual(['s-ann', 's-bob', 's-cat']);
    expectEnvelopes(added.events, added.correlationId);
    expect(memberships(added.events)).toEqual(
      sorted([
        ['entered', list.id, bob.id, 'static'],
        ['entered', list.id, cat.id, 'static'],
      ]),
    );
    expect(added.events).toHaveLength(2);
    const after = (await api.lists.getList({ id: list.id })).list!;
    expect(after.memberCount).toBe(3);

    const removed = await log.act(() => api.lists.removeListMembers({ listId: list.id, userIds: [ann.id, cat.id] }));
    expect(removed.result.removed).toBe(2);
    expect(await members(list.id)).toEqual(['s-bob']);
    expectEnvelopes(removed.events, removed.correlationId);
    expect(memberships(removed.events)).toEqual(
      sorted([
        ['left', list.id, ann.id, 'static'],
        ['left', list.id, cat.id, 'static'],
      ]),
    );

    const none = await log.act(() => api.lists.removeListMembers({ listId: list.id, userIds: [ann.id] }));
    expect(none.result.removed).toBe(0);
    expect(none.events).toEqual([]);
    const again = await log.act(() => api.lists.addListMembers({ listId: list.id, userIds: [bob.id] }));
    expect(again.result.added).toBe(0);
    expect(again.events).toEqual([]);
  });

  it('keeps its members whatever happens to them, until they are deleted', async () => {
    const dan = await newUser('s-dan', { custom5: 'static-only' });
    const list = await newList('Static three', 'static', { memberIds: [dan.id] });
    const changed = await log.act(() => update(dan.id, { custom5: 'changed', disabled: true, organisationId: org.south }));
    expect(memberships(changed.events)).toEqual([]);
    expect((await api.lists.getList({ id: list.id })).list!.memberCount).toBe(1);
    const deleted = await log.act(() => api.users.deleteUser({ id: dan.id }));
    expect(memberships(deleted.events)).toEqual([['left', list.id, dan.id, 'static']]);
    expect((await api.lists.getList({ id: list.id })).list!.memberCount).toBe(0);
  });

  it('refuses members outside the scope, and unknown users', async () => {
    const list = await newList('Static scoped', 'static');
    const north = await actorWithin(fixture, [org.north]);
    expect(await log.refused(() => north.lists.addListMembers({ listId: list.id, userIds: [cat.id] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'listId',
    });
    const northList = (
      await north.lists.createList({
        name: 'North static',
        description: '',
        type: 'static',
        folderId: '',
        memberIds: [],
        ownerOrganisationId: '',
      })
    ).list!;
    expect(northList.ownerOrganisationId).toBe(org.north);
    expect(await log.refused(() => north.lists.addListMembers({ listId: northList.id, userIds: [cat.id] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'userIds',
    });
    expect(await log.refused(() => api.lists.addListMembers({ listId: list.id, userIds: [UNKNOWN_ID] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'userIds',
    });
    expect(
      await log.refused(() =>
        north.lists.createList({
          ownerOrganisationId: '',
          name: 'Static out',
          description: '',
          type: 'static',
          folderId: '',
          memberIds: [cat.id],
        }),
      ),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'memberIds' });
    expect(await members(list.id)).toEqual([]);
    expect(await log.refused(() => api.lists.addListMembers({ listId: UNKNOWN_ID, userIds: [ann.id] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'listId',
    });
  });

  it('refuses inconsistent or duplicate definitions, naming the field', async () => {
    const base = { name: 'Bad list', description: '', folderId: '', memberIds: [] as string[] };
    expect(
      await log.refused(() =>
        api.lists.createList({ ownerOrganisationId: '', ...base, type: 'static', criteria: filter({ lastName: 'x' }) }),
      ),
    ).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'criteria',
    });
    expect(
      await log.refused(() =>
        api.lists.createList({ ownerOrganisationId: '', ...base, type: 'dynamic', criteria: filter({}), memberIds: [ann.id] }),
      ),
    ).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'memberIds',
    });
    expect(await log.refused(() => api.lists.createList({ ownerOrganisationId: '', ...base, type: 'dynamic' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'criteria',
    });
    expect(
      await log.refused(() =>
        api.lists.createList({ ownerOrganisationId: '', ...base, type: 'dynamic', criteria: filter({ match: 'some' }) }),
      ),
    ).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'criteria.match',
    });
    expect(await log.refused(() => api.lists.createList({ ownerOrganisationId: '', ...base, type: 'smart' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'type',
    });
    expect(await log.refused(() => api.lists.createList({ ownerOrganisationId: '', ...base, name: '', type: 'static' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'name',
    });
    const dup = await log.refused(() => api.lists.createList({ ownerOrganisationId: '', ...base, name: 'STATIC ONE', type: 'static' }));
    expect(dup).toMatchObject({ code: 'ALREADY_EXISTS', field: 'name' });
    expect(dup.message).toContain('STATIC ONE');
    const { rows } = await identity.db.query(`SELECT 1 FROM lists WHERE name IN ('Bad list', 'STATIC ONE')`);
    expect(rows).toHaveLength(0);
  });

  it('changes name, description, disabled and folder, publishing identity.list.updated.v1', async () => {
    const list = await newList('Static renamed', 'static', { memberIds: [ann.id] });
    const { folder } = await api.lists.createListFolder({ name: 'Archive', parentId: '' });
    const { result, events, correlationId } = await log.act(() =>
      api.lists.updateList({ id: list.id, name: 'Static renamed 2', description: 'new', disabled: true, folderId: folder!.id }),
    );
    expect(result.list).toMatchObject({
      name: 'Static renamed 2',
      description: 'new',
      disabled: true,
      folderId: folder!.id,
      memberCount: 1,
    });
    expect((await api.lists.getList({ id: list.id })).list).toEqual(result.list);
    expect(subjects(events)).toEqual(['identity.list.updated.v1']);
    expectEnvelopes(events, correlationId);
    expect(ListChanged.fromJSON(events[0].data).list).toEqual(result.list);

    expect(await log.refused(() => api.lists.updateList({ id: list.id, name: 'static ONE' }))).toMatchObject({
      code: 'ALREADY_EXISTS',
      field: 'name',
    });
    expect(await log.refused(() => api.lists.updateList({ id: list.id, criteria: filter({ lastName: 'x' }) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'criteria',
    });
    expect(await log.refused(() => api.lists.updateList({ id: UNKNOWN_ID, name: 'x' }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'id',
    });
    expect(await log.act(() => api.lists.updateList({ id: list.id }))).toMatchObject({ events: [] });
  });

  it('is deleted with its members leaving', async () => {
    const list = await newList('Static deleted', 'static', { memberIds: [ann.id, bob.id] });
    const { events, correlationId } = await log.act(() => api.lists.deleteList({ id: list.id }));
    expectEnvelopes(events, correlationId);
    expect(memberships(events)).toEqual(
      sorted([
        ['left', list.id, ann.id, 'static'],
        ['left', list.id, bob.id, 'static'],
      ]),
    );
    const deleted = events.filter((e) => e.subject === 'identity.list.deleted.v1');
    expect(deleted.map((e) => ListDeleted.fromJSON(e.data))).toEqual([{ id: list.id, name: 'Static deleted' }]);
    await expect(api.lists.getList({ id: list.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { rows } = await identity.db.query('SELECT 1 FROM list_members WHERE list_id = $1', [list.id]);
    expect(rows).toHaveLength(0);
  });
});

describe('dynamic lists', () => {
  it('refuses explicit members', async () => {
    const list = await newList('Dynamic closed', 'dynamic', { criteria: { custom9: 'nobody-has-this' } });
    const user = await newUser('d-closed');
    for (const call of [
      () => api.lists.addListMembers({ listId: list.id, userIds: [user.id] }),
      () => api.lists.removeListMembers({ listId: list.id, userIds: [user.id] }),
    ]) {
      const err = await log.refused(call);
      expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', field: 'listId' });
      expect(err.message).toContain('Dynamic closed');
    }
    expect(await members(list.id)).toEqual([]);
  });

  it('refuses criteria naming an organisation outside the scope, or unknown', async () => {
    const mine = (await api.organisations.createOrganisation({ fields: { extId: 'CRIT-MINE', label: 'mine' } })).organisation!;
    const other = (await api.organisations.createOrganisation({ fields: { extId: 'CRIT-OTHER', label: 'other' } })).organisation!;
    const scoped = await actorWithin(fixture, [mine.id]);
    const create = (organisationId: string) =>
      scoped.lists.createList({
        ownerOrganisationId: '',
        name: `Criteria ${organisationId}`,
        description: '',
        type: 'dynamic',
        folderId: '',
        criteria: filter({ organisationId, includeSubOrganisations: true }),
        memberIds: [],
      });
    for (const organisationId of [other.id, UNKNOWN_ID]) {
      expect(await log.refused(() => create(organisationId))).toMatchObject({ code: 'NOT_FOUND', field: 'criteria.organisationId' });
    }
    const list = (await create(mine.id)).list!;
    expect(await log.refused(() => scoped.lists.updateList({ id: list.id, criteria: filter({ organisationId: other.id }) }))).toMatchObject(
      { code: 'NOT_FOUND', field: 'criteria.organisationId' },
    );
  });

  it('makes the matching users enter when it is created', async () => {
    const [a, b] = [await newUser('d-a', { custom5: 'dyn-create' }), await newUser('d-b', { custom5: 'DYN-CREATE 2' })];
    await newUser('d-c', { custom5: 'other' });
    await newUser('d-d', { custom5: 'dyn-create', disabled: true });
    const { result, events, correlationId } = await log.act(() =>
      api.lists.createList({
        ownerOrganisationId: '',
        name: 'Dynamic create',
        description: '',
        type: 'dynamic',
        folderId: '',
        criteria: filter({ custom5: 'dyn-create' }),
        memberIds: [],
      }),
    );
    const list = result.list!;
    expect(list).toMatchObject({ type: 'dynamic', memberCount: 2, criteria: filter({ custom5: 'dyn-create' }) });
    expect(await members(list.id)).toEqual(['d-a', 'd-b']);
    expectEnvelopes(events, correlationId);
    expect(subjects(events)).toEqual(['identity.list.created.v1', 'identity.list-member.entered.v1', 'identity.list-member.entered.v1']);
    expect(memberships(events)).toEqual(
      sorted([
        ['entered', list.id, a.id, 'dynamic'],
        ['entered', list.id, b.id, 'dynamic'],
      ]),
    );
  });

  it('follows changes to users: created, changed, disabled, deleted', async () => {
    const list = await newList('Dynamic follow', 'dynamic', { criteria: { custom6: 'follow', lastName: 'zz-nobody', match: 'any' } });
    expect(await members(list.id)).toEqual([]);

    const created = await log.act(() => newUser('f-new', { custom6: 'I follow' }));
    const user = created.result;
    expectEnvelopes(created.events, created.correlationId);
    expect(memberships(created.events)).toEqual([['entered', list.id, user.id, 'dynamic']]);

    const stops = await log.act(() => update(user.id, { custom6: 'I lead' }));
    expect(memberships(stops.events)).toEqual([['left', list.id, user.id, 'dynamic']]);
    expectEnvelopes(stops.events, stops.correlationId);
    expect(await members(list.id)).toEqual([]);

    const starts = await log.act(() => update(user.id, { custom6: 'FOLLOWER' }));
    expect(memberships(starts.events)).toEqual([['entered', list.id, user.id, 'dynamic']]);
    expect(await members(list.id)).toEqual(['f-new']);

    const disabled = await log.act(() => update(user.id, { disabled: true }));
    expect(memberships(disabled.events)).toEqual([['left', list.id, user.id, 'dynamic']]);
    const enabled = await log.act(() => update(user.id, { disabled: false }));
    expect(memberships(enabled.events)).toEqual([['entered', list.id, user.id, 'dynamic']]);

    // A change that keeps the user matching publishes no membership event.
    const unrelated = await log.act(() => update(user.id, { custom6: 'still a follower' }));
    expect(subjects(unrelated.events)).toEqual(['identity.user.updated.v1']);

    const deleted = await log.act(() => api.users.deleteUser({ id: user.id }));
    expect(memberships(deleted.events)).toEqual([['left', list.id, user.id, 'dynamic']]);
    expect((await api.lists.getList({ id: list.id })).list!.memberCount).toBe(0);
  });

  it('re-evaluates its members when its criteria change', async () => {
    const [a, b, c] = [
      await newUser('r-a', { custom7: 'crit-one' }),
      await newUser('r-b', { custom7: 'crit-one crit-two' }),
      await newUser('r-c', { custom7: 'crit-two', disabled: true }),
    ];
    const list = await newList('Dynamic criteria', 'dynamic', { criteria: { custom7: 'crit-one' } });
    expect(await members(list.id)).toEqual(['r-a', 'r-b']);

    const { result, events, correlationId } = await log.act(() =>
      api.lists.updateList({ id: list.id, criteria: filter({ custom7: 'crit-two', includeDisabled: true }) }),
    );
    expect(result.list).toMatchObject({ memberCount: 2, criteria: filter({ custom7: 'crit-two', includeDisabled: true }) });
    expect(await members(list.id)).toEqual(['r-b', 'r-c']);
    expectEnvelopes(events, correlationId);
    expect(subjects(events)[0]).toBe('identity.list.updated.v1');
    expect(memberships(events)).toEqual(
      sorted([
        ['left', list.id, a.id, 'dynamic'],
        ['entered', list.id, c.id, 'dynamic'],
      ]),
    );
    expect(memberships(events).some(([, , user]) => user === b.id)).toBe(false);
  });

  it('follows audiences: added, removed, renamed, deleted', async () => {
    const user = await newUser('aud-user');
    const { audience } = await api.audiences.createAudience({ name: 'VIP customers', description: '' });
    const list = await newList('Dynamic audience', 'dynamic', { criteria: { audience: 'vip' } });
    expect(await members(list.id)).toEqual([]);

    const added = await log.act(() => api.users.addUserAudiences({ userIds: [user.id], audienceIds: [audience!.id] }));
    expectEnvelopes(added.events, added.correlationId);
    expect(memberships(added.events)).toEqual([['entered', list.id, user.id, 'dynamic']]);
    expect(await members(list.id)).toEqual(['aud-user']);

    const removed = await log.act(() => api.users.removeUserAudiences({ userIds: [user.id], audienceIds: [audience!.id] }));
    expect(memberships(removed.events)).toEqual([['left', list.id, user.id, 'dynamic']]);

    await api.users.addUserAudiences({ userIds: [user.id], audienceIds: [audience!.id] });
    expect(await members(list.id)).toEqual(['aud-user']);
    const renamed = await log.act(() => api.audiences.updateAudience({ id: audience!.id, name: 'Regular customers' }));
    expect(memberships(renamed.events)).toEqual([['left', list.id, user.id, 'dynamic']]);
    await api.audiences.updateAudience({ id: audience!.id, name: 'VIP again' });
    expect(await members(list.id)).toEqual(['aud-user']);

    // A user created with the audience enters at once.
    const born = await log.act(() => newUser('aud-born', {}, [audience!.id]));
    expect(memberships(born.events)).toEqual([['entered', list.id, born.result.id, 'dynamic']]);

    const deleted = await log.act(() => api.audiences.deleteAudience({ id: audience!.id }));
    expect(memberships(deleted.events)).toEqual(
      sorted([
        ['left', list.id, user.id, 'dynamic'],
        ['left', list.id, born.result.id, 'dynamic'],
      ]),
    );
    expect(subjects(deleted.events)[0]).toBe('identity.audience.deleted.v1');
    expect(await members(list.id)).toEqual([]);
  });

  it('follows moves in the organisation tree', async () => {
    const user = await newUser('t-branch', { organisationId: org.branch });
    const subTree = await newList('Dynamic north sub-tree', 'dynamic', {
      criteria: { organisationId: org.north, includeSubOrganisations: true },
    });
    const northOnly = await newList('Dynamic north only', 'dynamic', { criteria: { organisationId: org.north } });
    const southTree = await newList('Dynamic south sub-tree', 'dynamic', {
      criteria: { organisationId: org.south, includeSubOrganisations: true },
    });
    expect(await members(subTree.id)).not.toContain('t-branch');
    expect(await members(southTree.id)).toContain('t-branch');

    const moved = await log.act(() => api.organisations.updateOrganisation({ id: org.branch, fields: { parentId: org.lille } }));
    expectEnvelopes(moved.events, moved.correlationId);
    expect(memberships(moved.events)).toEqual(
      sorted([
        ['entered', subTree.id, user.id, 'dynamic'],
        ['left', southTree.id, user.id, 'dynamic'],
      ]),
    );
    expect(await members(subTree.id)).toContain('t-branch');
    expect(await members(northOnly.id)).not.toContain('t-branch');

    const back = await log.act(() => api.organisations.updateOrganisation({ id: org.branch, fields: { parentId: org.south } }));
    expect(memberships(back.events)).toEqual(
      sorted([
        ['left', subTree.id, user.id, 'dynamic'],
        ['entered', southTree.id, user.id, 'dynamic'],
      ]),
    );
    expect(await members(subTree.id)).not.toContain('t-branch');
  });

  it('makes its members leave when it is deleted', async () => {
    const [a, b] = [await newUser('x-a', { custom8: 'doomed' }), await newUser('x-b', { custom8: 'doomed' })];
    const list = await newList('Dynamic deleted', 'dynamic', { criteria: { custom8: 'doomed' } });
    const { events, correlationId } = await log.act(() => api.lists.deleteList({ id: list.id }));
    expectEnvelopes(events, correlationId);
    expect(memberships(events)).toEqual(
      sorted([
        ['left', list.id, a.id, 'dynamic'],
        ['left', list.id, b.id, 'dynamic'],
      ]),
    );
    expect(subjects(events).at(-1)).toBe('identity.list.deleted.v1');
    // A deleted list follows nobody any more.
    const later = await log.act(() => update(a.id, { custom8: 'doomed again' }));
    expect(memberships(later.events)).toEqual([]);
    await expect(api.users.resolveUserSelection({ selection: { listId: list.id, excludeIds: [] } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: 'selection.listId',
    });
  });
});

describe('SEL-2 SearchLists', () => {
  let folderId: string;

  /** Names of the lists of the SEL-2 folder a filter finds. */
  async function names(f: Partial<ListFilter>, page: { limit: number; offset: number; after?: string } = { limit: 100, offset: 0 }) {
    const { lists, total } = await api.lists.searchLists({
      filter: { name: '', description: '', type: '', match: '', includeDisabled: false, folderId, ...f },
      page: { after: '', ...page },
    });
    return { names: lists.map((l: UserList) => l.name), total };
  }

  beforeAll(async () => {
    folderId = (await api.lists.createListFolder({ name: 'SEL-2', parentId: '' })).folder!.id;
    const definitions: [string, 'static' | 'dynamic', string, boolean][] = [
      ["Form'Action 2024", 'dynamic', 'Learners of the 2024 session', false],
      ["Form'Action managers", 'static', 'Managers', false],
      ['Onboarding', 'dynamic', 'New hires', false],
      ['Sales team', 'static', "Form'Action graduates", false],
      ["Form'Action archive", 'dynamic', 'Old sessions', true],
      ['Old static', 'static', '', true],
      ['100% remote', 'static', 'Remote_workers', false],
    ];
    for (const [name, type, description, disabled] of definitions) {
      const list = await newList(name, type, { folderId, description, criteria: type === 'dynamic' ? { custom10: name } : undefined });
      if (disabled) await api.lists.updateList({ id: list.id, disabled: true });
    }
  });

  it('ALL: the dynamic lists whose name contains "Form\'Action"', async () => {
    expect(await names({ name: "Form'Action", type: 'dynamic', match: 'all' })).toEqual({ names: ["Form'Action 2024"], total: 1 });
    // "all" is the default.
    expect(await names({ name: "form'action", type: 'dynamic' })).toEqual({ names: ["Form'Action 2024"], total: 1 });
  });

  it('ANY: every dynamic list, and every list whose name contains "Form\'Action"', async () => {
    expect(await names({ name: "Form'Action", type: 'dynamic', match: 'any' })).toEqual({
      names: ["Form'Action 2024", "Form'Action managers", 'Onboarding'],
      total: 3,
    });
  });

  it('includes disabled lists only when asked', async () => {
    expect(await names({ name: "Form'Action", type: 'dynamic', match: 'all', includeDisabled: true })).toEqual({
      names: ["Form'Action 2024", "Form'Action archive"],
      total: 2,
    });
    expect(await names({ name: "Form'Action", type: 'dynamic', match: 'any', includeDisabled: true })).toEqual({
      names: ["Form'Action 2024", "Form'Action archive", "Form'Action managers", 'Onboarding'],
      total: 4,
    });
    expect((await names({ includeDisabled: true })).total).toBe(7);
    expect((await names({})).names).toEqual(['100% remote', "Form'Action 2024", "Form'Action managers", 'Onboarding', 'Sales team']);
  });

  it('filters on the description and the type, literally', async () => {
    expect((await names({ description: "form'action" })).names).toEqual(['Sales team']);
    expect((await names({ name: 'onboard', description: 'graduates', match: 'any' })).names).toEqual(['Onboarding', 'Sales team']);
    expect((await names({ name: 'onboard', description: 'graduates', match: 'all' })).names).toEqual([]);
    expect((await names({ type: 'static' })).names).toEqual(['100% remote', "Form'Action managers", 'Sales team']);
    expect((await names({ name: '%' })).names).toEqual(['100% remote']);
    expect((await names({ description: '_' })).names).toEqual(['100% remote']);
  });

  it('pages the result and gives the exact total', async () => {
    expect(await names({}, { limit: 2, offset: 1 })).toEqual({ names: ["Form'Action 2024", "Form'Action managers"], total: 5 });
    expect(await names({}, { limit: 2, offset: 4 })).toEqual({ names: ['Sales team'], total: 5 });
  });

  it('searches every folder when none is given', async () => {
    const { lists } = await api.lists.searchLists({
      filter: { name: '', description: '', type: 'dynamic', match: 'all', includeDisabled: false, folderId: '' },
      page: { limit: 500, offset: 0, after: '' },
    });
    const found = lists.map((l) => l.name);
    expect(found).toEqual(expect.arrayContaining(["Form'Action 2024", 'Onboarding', 'Dynamic create']));
    expect(lists.every((l) => l.type === 'dynamic' && !l.disabled)).toBe(true);
  });

  it('refuses a malformed filter, naming the field', async () => {
    await expect(names({ match: 'most' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter.match' });
    await expect(names({ type: 'smart' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter.type' });
    await expect(names({ folderId: 'SEL-2' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter.folderId' });
    await expect(names({}, { limit: 501, offset: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.limit' });
  });
});
