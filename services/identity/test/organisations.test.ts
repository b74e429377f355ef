import type { EventEnvelope } from '@assistants/kit';
import { OrganisationChanged, OrganisationDeleted } from '@assistants/proto/gen/identity/v1/events';
import type { Organisation, OrganisationFields } from '@assistants/proto/gen/identity/v1/organisations';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import {
  ADMINISTRATOR_ROLE_ID,
  EventLog,
  expectEnvelopes,
  filter,
  ROOT_ORGANISATION_ID,
  subjects,
  UNKNOWN_ID,
  actorWithin,
} from './helpers';

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;

const ALL_ORGANISATION_COLUMNS = [
  'ext_id',
  'label',
  'parent_id',
  'disabled',
  'description',
  'language',
  'address_line1',
  'address_line2',
  'zip',
  'city',
  'country',
  'code',
  'budget',
  'supervisor_id',
];

async function newOrganisation(extId: string, parentId?: string, fields: OrganisationFields = {}): Promise<Organisation> {
  const { organisation } = await api.organisations.createOrganisation({
    fields: { extId, label: extId.toLowerCase(), parentId, ...fields },
  });
  return organisation!;
}

const getOrganisation = async (id: string, as: IdentityClient = api) =>
  (await as.organisations.getOrganisation({ id, extId: '' })).organisation!;

const update = (id: string, fields: OrganisationFields, as: IdentityClient = api) => as.organisations.updateOrganisation({ id, fields });

async function list(
  request: { parentId?: string; query?: string; includeDisabled?: boolean; limit?: number; offset?: number },
  as: IdentityClient = api,
) {
  const { organisations, total } = await as.organisations.listOrganisations({
    parentId: request.parentId ?? '',
    query: request.query ?? '',
    includeDisabled: request.includeDisabled ?? false,
    page: { limit: request.limit ?? 100, offset: request.offset ?? 0, after: '' },
  });
  return { extIds: organisations.map((o) => o.extId), total };
}

function organisationChanged(event: EventEnvelope): OrganisationChanged {
  expect(Object.keys(event.data as object).sort()).toEqual(['changedFields', 'organisation']);
  return OrganisationChanged.fromJSON(event.data);
}

async function pathOf(id: string): Promise<string> {
  const { rows } = await identity.db.query<{ path: string }>('SELECT path FROM organisations WHERE id = $1', [id]);
  return rows[0].path;
}

beforeAll(async () => {
  fixture = await startIdentityFixture('organisations');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
});

afterAll(() => fixture?.stop());

describe('root', () => {
  it('exists, with external id "ROOT", at depth 0 and without parent', async () => {
    const { organisation } = await api.organisations.getOrganisation({ id: '', extId: 'root' });
    expect(organisation).toMatchObject({ id: ROOT_ORGANISATION_ID, extId: 'ROOT', parentId: '', depth: 0 });
    expect(await list({})).toEqual({ extIds: ['ROOT'], total: 1 });
  });

  it('keeps its place and its external id, and cannot be deleted', async () => {
    const other = await newOrganisation('ROOT-SIBLING');
    expect(await log.refused(() => update(ROOT_ORGANISATION_ID, { parentId: other.id }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'parentId',
    });
    expect(await log.refused(() => update(ROOT_ORGANISATION_ID, { extId: 'TOP' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'extId',
    });
    expect(await log.refused(() => api.organisations.deleteOrganisation({ id: ROOT_ORGANISATION_ID }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    expect(await getOrganisation(ROOT_ORGANISATION_ID)).toMatchObject({ extId: 'ROOT', parentId: '' });
    // Its label can change.
    const { result, events } = await log.act(() => update(ROOT_ORGANISATION_ID, { label: 'Acme' }));
    expect(result.organisation).toMatchObject({ label: 'Acme', extId: 'ROOT' });
    expect(organisationChanged(events[0]).changedFields).toEqual(['label']);
  });
});

describe('create', () => {
  it('goes under the root by default; every field round-trips; publishes identity.organisation.created.v1', async () => {
    const supervisor = (
      await api.users.createUser({
        fields: { login: 'supervisor', lastName: 'S', firstName: 'S', organisationId: ROOT_ORGANISATION_ID },
        audienceIds: [],
      })
    ).user!;
    const rootBefore = await getOrganisation(ROOT_ORGANISATION_ID);
    const fields: Required<OrganisationFields> = {
      extId: 'EUROPE',
      label: 'Europe',
      parentId: ROOT_ORGANISATION_ID,
      disabled: false,
      description: 'Every European subsidiary',
      language: 'fr-FR',
      addressLine1: '1 place de l’Europe',
      addressLine2: 'Étage 3',
      zip: '67000',
      city: 'Strasbourg',
      country: 'France',
      code: 'EU',
      budget: '12500.50',
      supervisorId: supervisor.id,
    };
    const { result, events, correlationId } = await log.act(() => api.organisations.createOrganisation({ fields }));
    const europe = result.organisation!;
    expect(europe).toMatchObject({ ...fields, depth: 1, childrenCount: 0 });
    expect(await getOrganisation(europe.id)).toEqual(europe);
    expect((await api.organisations.getOrganisation({ id: '', extId: 'europe' })).organisation).toEqual(europe);
    expect((await getOrganisation(ROOT_ORGANISATION_ID)).childrenCount).toBe(rootBefore.childrenCount + 1);
    expect(await pathOf(europe.id)).toBe(`/${ROOT_ORGANISATION_ID}/${europe.id}/`);

    expect(subjects(events)).toEqual(['identity.organisation.created.v1']);
    expectEnvelopes(events, correlationId);
    const data = organisationChanged(events[0]);
    expect(data.organisation).toEqual(europe);
    expect([...data.changedFields].sort()).toEqual([...ALL_ORGANISATION_COLUMNS].sort());

    // Without a parent: under the root.
    const asia = await newOrganisation('ASIA');
    expect(asia).toMatchObject({ parentId: ROOT_ORGANISATION_ID, depth: 1, budget: '', supervisorId: '', language: '' });
  });

  it('builds the hierarchy: parent, depth, number of children', async () => {
    const a = await newOrganisation('H-A');
    const b = await newOrganisation('H-B', a.id);
    const c = await newOrganisation('H-C', b.id);
    const d = await newOrganisation('H-D', b.id);
    expect([b.parentId, c.parentId, d.parentId]).toEqual([a.id, b.id, b.id]);
    expect([a.depth, b.depth, c.depth, d.depth]).toEqual([1, 2, 3, 3]);
    expect((await getOrganisation(a.id)).childrenCount).toBe(1);
    expect((await getOrganisation(b.id)).childrenCount).toBe(2);
    expect((await getOrganisation(c.id)).childrenCount).toBe(0);
    expect(await list({ parentId: b.id })).toEqual({ extIds: ['H-C', 'H-D'], total: 2 });
  });

  it('refuses missing, malformed and duplicate values, naming the field', async () => {
    const cases: [OrganisationFields, string, string][] = [
      [{ label: 'No ext id' }, 'INVALID_ARGUMENT', 'extId'],
      [{ extId: 'NOLABEL' }, 'INVALID_ARGUMENT', 'label'],
      [{ extId: '  ', label: 'Blank' }, 'INVALID_ARGUMENT', 'extId'],
      [{ extId: 'BADLANG', label: 'x', language: 'fr' }, 'INVALID_ARGUMENT', 'language'],
      [{ extId: 'BADBUDGET', label: 'x', budget: '12,5' }, 'INVALID_ARGUMENT', 'budget'],
      [{ extId: 'BADPARENT', label: 'x', parentId: 'EUROPE' }, 'INVALID_ARGUMENT', 'parentId'],
      [{ extId: 'NOPARENT', label: 'x', parentId: UNKNOWN_ID }, 'NOT_FOUND', 'parentId'],
      [{ extId: 'NOSUPERVISOR', label: 'x', supervisorId: UNKNOWN_ID }, 'NOT_FOUND', 'supervisorId'],
      [{ extId: 'europe', label: 'Europe again' }, 'ALREADY_EXISTS', 'extId'],
    ];
    for (const [fields, code, field] of cases) {
      const err = await log.refused(() => api.organisations.createOrganisation({ fields }));
      expect({ fields, code: err.code, field: err.field }).toEqual({ fields, code, field });
    }
    const dup = await log.refused(() => api.organisations.createOrganisation({ fields: { extId: 'europe', label: 'E' } }));
    expect(dup.message).toContain('"europe"');
    const { rows } = await identity.db.query(
      `SELECT ext_id FROM organisations WHERE lower(ext_id) = 'europe' OR label IN ('No ext id', 'x')`,
    );
    expect(rows).toEqual([{ ext_id: 'EUROPE' }]);
  });
});

describe('update', () => {
  it('changes the given fields, publishes them, and nothing when nothing changes', async () => {
    const org = await newOrganisation('UPD', undefined, { city: 'Lyon', budget: '100.00', code: 'U1' });
    const { result, events, correlationId } = await log.act(() =>
      update(org.id, { city: 'Lille', budget: '', disabled: true, code: 'U1' }),
    );
    expect(result.organisation).toMatchObject({ city: 'Lille', budget: '', disabled: true, code: 'U1', label: 'upd' });
    expect(await getOrganisation(org.id)).toEqual(result.organisation);
    expect(subjects(events)).toEqual(['identity.organisation.updated.v1']);
    expectEnvelopes(events, correlationId);
    expect([...organisationChanged(events[0]).changedFields].sort()).toEqual(['budget', 'city', 'disabled']);

    const same = await log.act(() => update(org.id, { city: 'Lille', disabled: true, label: 'upd', parentId: ROOT_ORGANISATION_ID }));
    expect(same.events).toEqual([]);
    expect(same.result.organisation).toEqual(result.organisation);

    const budget = await log.act(() => update(org.id, { budget: '2500' }));
    expect(budget.result.organisation!.budget).toBe('2500.00');
    expect(organisationChanged(budget.events[0]).changedFields).toEqual(['budget']);
    // The same amount written otherwise is no change.
    const sameBudget = await log.act(() => update(org.id, { budget: '2500.0' }));
    expect(sameBudget.events).toEqual([]);
    expect(sameBudget.result.organisation).toEqual(budget.result.organisation);
  });

  it('refuses an external id used by another organisation', async () => {
    const org = await newOrganisation('UNIQUE-1');
    const err = await log.refused(() => update(org.id, { extId: 'Europe' }));
    expect(err).toMatchObject({ code: 'ALREADY_EXISTS', field: 'extId' });
    expect((await getOrganisation(org.id)).extId).toBe('UNIQUE-1');
  });

  it('answers NOT_FOUND for an unknown organisation', async () => {
    expect(await log.refused(() => update(UNKNOWN_ID, { label: 'x' }))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });
});

describe('move', () => {
  it('moves a sub-tree under another parent: paths, depths and children counts follow', async () => {
    const a = await newOrganisation('M-A');
    const a1 = await newOrganisation('M-A1', a.id);
    const a11 = await newOrganisation('M-A11', a1.id);
    const b = await newOrganisation('M-B');
    const user = (
      await api.users.createUser({
        fields: { login: 'mover', lastName: 'M', firstName: 'M', organisationId: a11.id },
        audienceIds: [],
      })
    ).user!;

    const { result, events, correlationId } = await log.act(() => update(a1.id, { parentId: b.id }));
    expect(result.organisation).toMatchObject({ parentId: b.id, depth: 2, childrenCount: 1 });
    expect(await getOrganisation(a11.id)).toMatchObject({ parentId: a1.id, depth: 3 });
    expect((await getOrganisation(a.id)).childrenCount).toBe(0);
    expect((await getOrganisation(b.id)).childrenCount).toBe(1);
    expect(await pathOf(a11.id)).toBe(`/${ROOT_ORGANISATION_ID}/${b.id}/${a1.id}/${a11.id}/`);

    // The moved organisation, then each of its sub-tree, whose depth changed.
    expect(subjects(events)).toEqual(['identity.organisation.updated.v1', 'identity.organisation.updated.v1']);
    expectEnvelopes(events, correlationId);
    const data = organisationChanged(events[0]);
    expect(data.changedFields).toEqual(['parent_id']);
    expect(data.organisation).toMatchObject({ id: a1.id, parentId: b.id, depth: 2 });
    const descendant = organisationChanged(events[1]);
    expect(descendant.changedFields).toEqual(['depth']);
    expect(descendant.organisation).toMatchObject({ id: a11.id, depth: 3 });

    // Browsing the sub-tree of the new parent finds the users of the moved organisations.
    const sub = async (orgId: string) =>
      (await api.users.searchUsers({ filter: filter({ organisationId: orgId, includeSubOrganisations: true }) })).users.map((u) => u.id);
    expect(await sub(b.id)).toEqual([user.id]);
    expect(await sub(a.id)).toEqual([]);
    // And a scope on the new parent covers them.
    const [onB, onA] = [await actorWithin(fixture, [b.id]), await actorWithin(fixture, [a.id])];
    expect((await onB.users.getUser({ id: user.id, login: '', extId: '' })).user?.id).toBe(user.id);
    await expect(onA.users.getUser({ id: user.id, login: '', extId: '' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses a move into its own sub-tree', async () => {
    const a = await newOrganisation('C-A');
    const a1 = await newOrganisation('C-A1', a.id);
    const a11 = await newOrganisation('C-A11', a1.id);
    for (const target of [a11, a1, a]) {
      const err = await log.refused(() => update(a.id, { parentId: target.id }));
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'parentId' });
    }
    expect(await getOrganisation(a.id)).toMatchObject({ parentId: ROOT_ORGANISATION_ID, depth: 1 });
    expect(await pathOf(a11.id)).toBe(`/${ROOT_ORGANISATION_ID}/${a.id}/${a1.id}/${a11.id}/`);
  });

  it('pages no further than offset 10,000', async () => {
    await expect(list({ offset: 10_001 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.offset' });
    expect(await list({ offset: 10_000 })).toMatchObject({ extIds: [] });
  });

  it('refuses an unknown parent', async () => {
    const a = await newOrganisation('U-A');
    expect(await log.refused(() => update(a.id, { parentId: UNKNOWN_ID }))).toMatchObject({ code: 'NOT_FOUND', field: 'parentId' });
  });
});

describe('delete', () => {
  it('is refused while the organisation has children, users or role grants', async () => {
    const parent = await newOrganisation('D-P');
    const child = await newOrganisation('D-C', parent.id);
    const withChild = await log.refused(() => api.organisations.deleteOrganisation({ id: parent.id }));
    expect(withChild).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(withChild.message).toContain('1 sub-organisation');

    const user = (
      await api.users.createUser({
        fields: { login: 'resident', lastName: 'R', firstName: 'R', organisationId: child.id },
        audienceIds: [],
      })
    ).user!;
    const withUser = await log.refused(() => api.organisations.deleteOrganisation({ id: child.id }));
    expect(withUser).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(withUser.message).toContain('1 user');

    await api.users.updateUser({
      id: user.id,
      fields: { organisationId: ROOT_ORGANISATION_ID },
    });
    await api.roles.grantRoles({ userIds: [user.id], roleIds: [ADMINISTRATOR_ROLE_ID], organisationId: child.id });
    const withGrant = await log.refused(() => api.organisations.deleteOrganisation({ id: child.id }));
    expect(withGrant).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(withGrant.message).toContain('role grant');
    expect(await getOrganisation(child.id)).toMatchObject({ id: child.id });

    await api.roles.revokeRole({ userId: user.id, roleId: ADMINISTRATOR_ROLE_ID, organisationId: child.id });
    const { events, correlationId } = await log.act(() => api.organisations.deleteOrganisation({ id: child.id }));
    expect(subjects(events)).toEqual(['identity.organisation.deleted.v1']);
    expectEnvelopes(events, correlationId);
    expect(OrganisationDeleted.fromJSON(events[0].data)).toEqual({ id: child.id, extId: 'D-C' });
    await expect(getOrganisation(child.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await getOrganisation(parent.id)).childrenCount).toBe(0);

    // Now the parent has neither children nor users.
    const gone = await log.act(() => api.organisations.deleteOrganisation({ id: parent.id }));
    expect(subjects(gone.events)).toEqual(['identity.organisation.deleted.v1']);
    const { rows } = await identity.db.query('SELECT 1 FROM organisations WHERE id = ANY($1)', [[parent.id, child.id]]);
    expect(rows).toHaveLength(0);
  });

  it('answers NOT_FOUND for an unknown organisation', async () => {
    expect(await log.refused(() => api.organisations.deleteOrganisation({ id: UNKNOWN_ID }))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('publishes the supervised organisations as updated when their supervisor is deleted', async () => {
    const boss = (
      await api.users.createUser({
        fields: { login: 'orgboss', lastName: 'B', firstName: 'B', organisationId: ROOT_ORGANISATION_ID },
        audienceIds: [],
      })
    ).user!;
    const org = await newOrganisation('SUPERVISED', undefined, { supervisorId: boss.id });
    expect(org.supervisorId).toBe(boss.id);
    const { events } = await log.act(() => api.users.deleteUser({ id: boss.id }));
    expect(subjects(events)).toEqual(['identity.user.deleted.v1', 'identity.organisation.updated.v1']);
    const data = organisationChanged(events[1]);
    expect(data.changedFields).toEqual(['supervisor_id']);
    expect(data.organisation).toMatchObject({ id: org.id, supervisorId: '' });
    expect((await getOrganisation(org.id)).supervisorId).toBe('');
  });
});

describe('browse and search', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const [extId, label, parent, fields] of [
      ['B-NORTH', 'North', '', {}],
      ['B-SOUTH', 'South', '', { code: 'SUD-42' }],
      ['B-LILLE', 'Lille', 'B-NORTH', {}],
      ['B-ROUBAIX', 'Roubaix', 'B-NORTH', {}],
      ['B-ARRAS', 'Arras (closed)', 'B-NORTH', { disabled: true }],
      ['B-NICE', 'Nice', 'B-SOUTH', {}],
    ] as [string, string, string, OrganisationFields][]) {
      const { organisation } = await api.organisations.createOrganisation({
        fields: { extId, label, parentId: parent ? ids[parent] : undefined, ...fields },
      });
      ids[extId] = organisation!.id;
    }
  });

  it('lists the children of an organisation, sorted by label, without disabled ones unless asked', async () => {
    expect(await list({ parentId: ids['B-NORTH'] })).toEqual({ extIds: ['B-LILLE', 'B-ROUBAIX'], total: 2 });
    expect(await list({ parentId: ids['B-NORTH'], includeDisabled: true })).toEqual({
      extIds: ['B-ARRAS', 'B-LILLE', 'B-ROUBAIX'],
      total: 3,
    });
    expect(await list({ parentId: ids['B-NORTH'], includeDisabled: true, limit: 1, offset: 1 })).toEqual({ extIds: ['B-LILLE'], total: 3 });
    expect(await list({ parentId: ids['B-NICE'] })).toEqual({ extIds: [], total: 0 });
  });

  it('lists the top of the scope: the root, or the organisations of a restricted scope', async () => {
    expect((await list({})).extIds).toEqual(['ROOT']);
    expect(await list({}, await actorWithin(fixture, [ids['B-SOUTH'], ids['B-NORTH']]))).toEqual({
      extIds: ['B-NORTH', 'B-SOUTH'],
      total: 2,
    });
    // An organisation inside another of the scope is not a top.
    expect(await list({}, await actorWithin(fixture, [ids['B-NORTH'], ids['B-LILLE']]))).toEqual({ extIds: ['B-NORTH'], total: 1 });
  });

  it('searches label, external id and code in the whole scope, case-insensitively', async () => {
    expect((await list({ query: 'OUB' })).extIds).toEqual(['B-ROUBAIX']);
    expect((await list({ query: 'sud-4' })).extIds).toEqual(['B-SOUTH']);
    expect((await list({ query: 'b-n' })).extIds).toEqual(['B-NICE', 'B-NORTH']);
    expect((await list({ query: 'arras' })).extIds).toEqual([]);
    expect((await list({ query: 'arras', includeDisabled: true })).extIds).toEqual(['B-ARRAS']);
    expect((await list({ query: 'b-n' }, await actorWithin(fixture, [ids['B-NORTH']]))).extIds).toEqual(['B-NORTH']);
    expect((await list({ query: '%' })).extIds).toEqual([]);
  });

  it('pages no further than offset 10,000', async () => {
    await expect(list({ offset: 10_001 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.offset' });
    expect(await list({ offset: 10_000 })).toMatchObject({ extIds: [] });
  });

  it('refuses an unknown parent', async () => {
    await expect(list({ parentId: UNKNOWN_ID })).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'parentId' });
    await expect(list({ parentId: 'B-NORTH' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'parentId' });
  });
});

describe('scope', () => {
  let north: Organisation;
  let south: Organisation;

  beforeAll(async () => {
    north = await newOrganisation('S-NORTH');
    south = await newOrganisation('S-SOUTH');
  });

  it('hides organisations outside the scope, for reading and for changing', async () => {
    const scoped = await actorWithin(fixture, [north.id]);
    await expect(getOrganisation(south.id, scoped)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(scoped.organisations.getOrganisation({ id: '', extId: 'S-SOUTH' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await log.refused(() => update(south.id, { label: 'x' }, scoped))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(await log.refused(() => scoped.organisations.deleteOrganisation({ id: south.id }))).toMatchObject({ code: 'NOT_FOUND' });
    expect((await getOrganisation(south.id)).label).toBe('s-south');
  });

  it('creates and moves only within the scope', async () => {
    const scoped = await actorWithin(fixture, [north.id]);
    expect(
      await log.refused(() => scoped.organisations.createOrganisation({ fields: { extId: 'S-X', label: 'x', parentId: south.id } })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'parentId',
    });
    // No parent means the root, which lies outside this scope.
    expect(await log.refused(() => scoped.organisations.createOrganisation({ fields: { extId: 'S-Y', label: 'y' } }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'parentId',
    });
    const { result } = await log.act(() =>
      scoped.organisations.createOrganisation({ fields: { extId: 'S-N1', label: 'n1', parentId: north.id } }),
    );
    const n1 = result.organisation!;
    expect(await getOrganisation(n1.id, scoped)).toMatchObject({ parentId: north.id, depth: 2 });
    expect(await log.refused(() => update(n1.id, { parentId: south.id }, scoped))).toMatchObject({ code: 'NOT_FOUND', field: 'parentId' });
    expect((await getOrganisation(n1.id)).parentId).toBe(north.id);
  });
});
