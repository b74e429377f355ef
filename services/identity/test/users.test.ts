import type { EventEnvelope } from '@assistants/kit';
import { ListMembershipChanged, RoleGrantChanged, UserChanged, UserDeleted } from '@assistants/proto/gen/identity/v1/events';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture, type TestIdentity } from '@assistants/testing';
import { ADMINISTRATOR_ROLE_ID, EventLog, expectEnvelopes, ROOT_ORGANISATION_ID, subjects, UNKNOWN_ID, actorWithin } from './helpers';

let fixture: IdentityFixture;
let identity: TestIdentity;
let api: IdentityClient;
let log: EventLog;
const org: Record<string, string> = {};
const audience: Record<string, string> = {};

/** Every column a UserChanged names on create. */
const ALL_USER_COLUMNS = [
  'login',
  'ext_id',
  'last_name',
  'first_name',
  'title',
  'email',
  'language',
  'birth_date',
  'activation_date',
  'expiration_date',
  'disabled',
  'organisation_id',
  'manager_id',
  'secondary_manager_id',
  'address_line1',
  'address_line2',
  'zip',
  'city',
  'country',
  'phone',
  'cellphone',
  'hourly_cost',
  'custom1',
  'custom2',
  'custom3',
  'custom4',
  'custom5',
  'custom6',
  'custom7',
  'custom8',
  'custom9',
  'custom10',
  'job_position',
  'two_factor',
  'externally_managed',
  'must_change_password',
];

async function newUser(login: string, fields: UserFields = {}, extra: { password?: string; audienceIds?: string[] } = {}): Promise<User> {
  const { user } = await api.users.createUser({
    fields: { login, lastName: login.toUpperCase(), firstName: 'Test', organisationId: org.sales, ...fields },
    audienceIds: extra.audienceIds ?? [],
    password: extra.password,
  });
  return user!;
}

const getUser = async (id: string) => (await api.users.getUser({ id, login: '', extId: '' })).user!;

const update = (id: string, fields: UserFields, as: IdentityClient = api) => as.users.updateUser({ id, fields });

/** The UserChanged payload of an event, checked to be exactly { user, changedFields }. */
function userChanged(event: EventEnvelope): UserChanged {
  expect(Object.keys(event.data as object).sort()).toEqual(['changedFields', 'user']);
  return UserChanged.fromJSON(event.data);
}

async function userRow(id: string) {
  const { rows } = await identity.db.query('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0];
}

beforeAll(async () => {
  fixture = await startIdentityFixture('users');
  ({ identity, api } = fixture);
  log = new EventLog(identity, 'IDENTITY');
  for (const key of ['sales', 'support']) {
    const { organisation } = await api.organisations.createOrganisation({ fields: { extId: key.toUpperCase(), label: key } });
    org[key] = organisation!.id;
  }
  for (const name of ['Managers', 'Newcomers']) {
    const { audience: created } = await api.audiences.createAudience({ name, description: '' });
    audience[name] = created!.id;
  }
});

afterAll(() => fixture?.stop());

describe('create and get', () => {
  it('round-trips every I2 field, and publishes identity.user.created.v1 with the caller’s correlation id', async () => {
    const manager = await newUser('boss');
    const secondary = await newUser('deputy');
    const fields: Required<UserFields> = {
      login: 'jdoe',
      extId: 'EXT-JDOE',
      lastName: 'Doe',
      firstName: 'Jane',
      title: 'Dr.',
      email: 'jane.doe@acme.fr',
      language: 'fr-FR',
      birthDate: '1980-05-17',
      activationDate: '2020-01-01',
      expirationDate: '2099-12-31',
      disabled: false,
      organisationId: org.sales,
      managerId: manager.id,
      secondaryManagerId: secondary.id,
      addressLine1: '1 rue de la Paix',
      addressLine2: 'Bâtiment B',
      zip: '75002',
      city: 'Paris',
      country: 'France',
      phone: '+33 1 23 45 67 89',
      cellphone: '+33 6 12 34 56 78',
      hourlyCost: '42.50',
      custom1: 'c1',
      custom2: 'c2',
      custom3: 'c3',
      custom4: 'c4',
      custom5: 'c5',
      custom6: 'c6',
      custom7: 'c7',
      custom8: 'c8',
      custom9: 'c9',
      custom10: 'c10',
      jobPosition: 'Trainer',
      twoFactor: 'first_login_of_day',
      externallyManaged: true,
      mustChangePassword: true,
    };
    const { result, events, correlationId } = await log.act(() =>
      api.users.createUser({ fields, password: 'a good password', audienceIds: [audience.Newcomers] }),
    );
    // Every field given comes back as given (User and UserFields share their names).
    const expected: Partial<User> = {
      ...fields,
      hasPassword: true,
      mustChangePassword: true,
      lastLoginAt: '',
      audiences: [{ id: audience.Newcomers, name: 'Newcomers' }],
    };
    const created = result.user!;
    expect(created).toMatchObject(expected);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

    // Read back by id, by login (whatever its case) and by external id.
    expect(await getUser(created.id)).toEqual(created);
    expect((await api.users.getUser({ id: '', login: 'JDOE', extId: '' })).user).toEqual(created);
    expect((await api.users.getUser({ id: '', login: '', extId: 'ext-jdoe' })).user).toEqual(created);

    // The row holds a hash, never the password.
    const row = await userRow(created.id);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);

    expect(subjects(events)).toEqual(['identity.user.created.v1']);
    expectEnvelopes(events, correlationId);
    const data = userChanged(events[0]);
    expect(data.user).toEqual(created);
    expect([...data.changedFields].sort()).toEqual([...ALL_USER_COLUMNS, 'audiences'].sort());
    expect(JSON.stringify(events[0])).not.toContain('a good password');
    expect(JSON.stringify(events[0])).not.toContain('argon2');
  });

  it('gives the events of a call without correlation id a new one', async () => {
    await log.next();
    await newUser('uncorrelated');
    const events = await log.next();
    expect(subjects(events)).toEqual(['identity.user.created.v1']);
    expect(events[0].correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has defaults for what is not given', async () => {
    const { result, events } = await log.act(() =>
      api.users.createUser({
        fields: { login: 'plain', lastName: 'Plain', firstName: 'P', organisationId: org.sales },
        audienceIds: [],
      }),
    );
    expect(result.user).toMatchObject({
      extId: '',
      title: '',
      birthDate: '',
      hourlyCost: '',
      managerId: '',
      twoFactor: 'default',
      externallyManaged: false,
      disabled: false,
      hasPassword: false,
      audiences: [],
    });
    expect(subjects(events)).toEqual(['identity.user.created.v1']);
    expect(userChanged(events[0]).changedFields).not.toContain('audiences');
  });

  it('requires login, names and organisation', async () => {
    const base = { login: 'x1', lastName: 'X', firstName: 'Y', organisationId: org.sales };
    for (const field of ['login', 'lastName', 'firstName', 'organisationId'] as const) {
      const fields: UserFields = { ...base };
      delete fields[field];
      const err = await log.refused(() => api.users.createUser({ fields, audienceIds: [] }));
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field });
      expect(err.message).toContain(field);
    }
    expect(await log.refused(() => api.users.createUser({ fields: { ...base, lastName: '   ' }, audienceIds: [] }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'lastName',
    });
    expect(await log.refused(() => api.users.createUser({ fields: { ...base, login: 'two words' }, audienceIds: [] }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'login',
    });
    const { rows } = await identity.db.query(`SELECT 1 FROM users WHERE login IN ('x1', 'two words')`);
    expect(rows).toHaveLength(0);
  });

  it('refuses a login already used, whatever its case, naming the login', async () => {
    await newUser('mmartin');
    const err = await log.refused(() =>
      api.users.createUser({
        fields: { login: 'MMartin', lastName: 'M', firstName: 'M', organisationId: org.sales },
        audienceIds: [],
      }),
    );
    expect(err).toMatchObject({ code: 'ALREADY_EXISTS', field: 'login' });
    expect(err.message).toContain('MMartin');
    const other = await newUser('pmartin');
    const onUpdate = await log.refused(() => update(other.id, { login: 'MMARTIN' }));
    expect(onUpdate).toMatchObject({ code: 'ALREADY_EXISTS', field: 'login' });
    expect(onUpdate.message).toContain('MMARTIN');
    expect((await getUser(other.id)).login).toBe('pmartin');
    const { rows } = await identity.db.query(`SELECT count(*)::int AS n FROM users WHERE lower(login) = 'mmartin'`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses an external id already used, whatever its case', async () => {
    await newUser('ext1', { extId: 'E-001' });
    const err = await log.refused(() =>
      api.users.createUser({
        fields: { login: 'ext2', extId: 'e-001', lastName: 'E', firstName: 'E', organisationId: org.sales },
        audienceIds: [],
      }),
    );
    expect(err).toMatchObject({ code: 'ALREADY_EXISTS', field: 'extId' });
    expect(err.message).toContain('e-001');
    // No external id is no conflict: many users have none.
    await newUser('noext1', { extId: '' });
    await newUser('noext2', { extId: '' });
    const { rows } = await identity.db.query(`SELECT count(*)::int AS n FROM users WHERE login IN ('noext1', 'noext2') AND ext_id IS NULL`);
    expect(rows[0].n).toBe(2);
  });

  it('refuses an unknown organisation, or one outside the scope', async () => {
    const fields = { login: 'orphan', lastName: 'O', firstName: 'O' };
    expect(
      await log.refused(() => api.users.createUser({ fields: { ...fields, organisationId: UNKNOWN_ID }, audienceIds: [] })),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'organisationId' });
    const support = await actorWithin(fixture, [org.support]);
    expect(
      await log.refused(() => support.users.createUser({ fields: { ...fields, organisationId: org.sales }, audienceIds: [] })),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'organisationId' });
    expect(
      await log.refused(() => api.users.createUser({ fields: { ...fields, organisationId: 'SALES' }, audienceIds: [] })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'organisationId' });
    expect(
      await log.refused(() => api.users.createUser({ fields: { ...fields, organisationId: org.sales }, audienceIds: [UNKNOWN_ID] })),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'audienceIds' });
    const { rows } = await identity.db.query(`SELECT 1 FROM users WHERE login = 'orphan'`);
    expect(rows).toHaveLength(0);
  });

  it('refuses malformed values, naming the field', async () => {
    const cases: [UserFields, string][] = [
      [{ birthDate: '17/05/1980' }, 'birthDate'],
      [{ birthDate: '2023-02-29' }, 'birthDate'],
      [{ activationDate: '2024-13-01' }, 'activationDate'],
      [{ expirationDate: 'tomorrow' }, 'expirationDate'],
      [{ title: 'Sir' }, 'title'],
      [{ language: 'de-DE' }, 'language'],
      [{ email: 'jane.doe' }, 'email'],
      [{ email: 'jane doe@acme.fr' }, 'email'],
      [{ twoFactor: 'sometimes' }, 'twoFactor'],
      [{ hourlyCost: '-3' }, 'hourlyCost'],
      [{ hourlyCost: '12.345' }, 'hourlyCost'],
      [{ custom4: 'x'.repeat(256) }, 'custom4'],
      [{ zip: 'z'.repeat(21) }, 'zip'],
      [{ managerId: 'boss' }, 'managerId'],
    ];
    for (const [bad, field] of cases) {
      const err = await log.refused(() =>
        api.users.createUser({
          fields: { login: 'malformed', lastName: 'M', firstName: 'M', organisationId: org.sales, ...bad },
          audienceIds: [],
        }),
      );
      expect({ bad, code: err.code, field: err.field }).toEqual({ bad, code: 'INVALID_ARGUMENT', field });
      expect(err.message).toContain(field);
    }
    // The same checks apply to a change.
    const user = await newUser('wellformed');
    expect(await log.refused(() => update(user.id, { language: 'en-US' }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'language' });
    expect(await log.refused(() => update(user.id, { birthDate: '1980-5-17' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'birthDate',
    });
    expect((await getUser(user.id)).language).toBe('');
  });

  it('accepts a leap day and every title, language and 2FA mode', async () => {
    const user = await newUser('leap', { birthDate: '2000-02-29' });
    expect(user.birthDate).toBe('2000-02-29');
    for (const title of ['M.', 'Mme', 'Mlle', 'Dr.', 'Pr.', '']) expect((await update(user.id, { title })).user!.title).toBe(title);
    for (const language of ['en-EN', 'fr-FR', 'es-ES', '']) expect((await update(user.id, { language })).user!.language).toBe(language);
    for (const twoFactor of ['never', 'always', 'first_login_of_day', 'default']) {
      expect((await update(user.id, { twoFactor })).user!.twoFactor).toBe(twoFactor);
    }
  });
});

describe('update', () => {
  it('changes the given fields only, and the event names exactly those', async () => {
    const user = await newUser('changeme', { custom1: 'keep', city: 'Lyon', birthDate: '1990-01-01', hourlyCost: '10.00' });
    const { result, events, correlationId } = await log.act(() =>
      update(user.id, {
        custom2: 'new',
        city: 'Lille',
        birthDate: '1991-02-03',
        hourlyCost: '12.25',
        organisationId: org.support,
        title: 'Mme',
      }),
    );
    const changed = result.user!;
    expect(changed).toMatchObject({
      custom1: 'keep',
      custom2: 'new',
      city: 'Lille',
      birthDate: '1991-02-03',
      hourlyCost: '12.25',
      organisationId: org.support,
      title: 'Mme',
    });
    expect(await getUser(user.id)).toEqual(changed);
    expect(Date.parse(changed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.updatedAt));

    expect(subjects(events)).toEqual(['identity.user.updated.v1']);
    expectEnvelopes(events, correlationId);
    const data = userChanged(events[0]);
    expect(data.user).toEqual(changed);
    expect([...data.changedFields].sort()).toEqual(['birth_date', 'city', 'custom2', 'hourly_cost', 'organisation_id', 'title']);
  });

  it('changes every field', async () => {
    const manager = await newUser('boss2');
    const user = await newUser('everything');
    const fields: Required<UserFields> = {
      login: 'everything2',
      extId: 'EV-2',
      lastName: 'Every',
      firstName: 'Thing',
      title: 'Pr.',
      email: 'every@thing.org',
      language: 'es-ES',
      birthDate: '1975-12-31',
      activationDate: '2021-06-01',
      expirationDate: '2098-06-30',
      disabled: true,
      organisationId: org.support,
      managerId: manager.id,
      secondaryManagerId: manager.id,
      addressLine1: 'l1',
      addressLine2: 'l2',
      zip: '13000',
      city: 'Marseille',
      country: 'FR',
      phone: '01',
      cellphone: '06',
      hourlyCost: '99.99',
      custom1: 'n1',
      custom2: 'n2',
      custom3: 'n3',
      custom4: 'n4',
      custom5: 'n5',
      custom6: 'n6',
      custom7: 'n7',
      custom8: 'n8',
      custom9: 'n9',
      custom10: 'n10',
      jobPosition: 'Lead',
      twoFactor: 'always',
      externallyManaged: true,
      mustChangePassword: true,
    };
    const { result, events } = await log.act(() => update(user.id, fields));
    expect(result.user).toMatchObject(fields);
    expect([...userChanged(events[0]).changedFields].sort()).toEqual([...ALL_USER_COLUMNS].sort());
  });

  it('publishes nothing and keeps updatedAt when nothing changes', async () => {
    const user = await newUser('same', {
      birthDate: '1985-07-14',
      activationDate: '2020-01-01',
      expirationDate: '2099-01-01',
      hourlyCost: '15.50',
      extId: 'SAME-1',
      custom3: 'x',
    });
    const { result, events } = await log.act(() =>
      update(user.id, {
        login: 'same',
        birthDate: '1985-07-14',
        activationDate: '2020-01-01',
        expirationDate: '2099-01-01',
        hourlyCost: '15.50',
        extId: 'SAME-1',
        custom3: 'x',
        managerId: '',
        organisationId: org.sales,
        disabled: false,
      }),
    );
    expect(events).toEqual([]);
    expect(result.user).toEqual(user);
    expect((await getUser(user.id)).updatedAt).toBe(user.updatedAt);

    // The same amount written otherwise (as a CSV import may) is no change either.
    const again = await log.act(() => update(user.id, { hourlyCost: '15.5' }));
    expect(again.events).toEqual([]);
    expect(again.result.user).toEqual(user);
    const changed = await log.act(() => update(user.id, { hourlyCost: '015.51' }));
    expect(changed.result.user!.hourlyCost).toBe('15.51');
    expect(userChanged(changed.events[0]).changedFields).toEqual(['hourly_cost']);
  });

  it('clears nullable fields with ""', async () => {
    const manager = await newUser('boss3');
    const user = await newUser('clearme', {
      extId: 'CLR',
      birthDate: '1970-01-01',
      hourlyCost: '1.00',
      managerId: manager.id,
      email: 'a@b.co',
    });
    const { result, events } = await log.act(() => update(user.id, { extId: '', birthDate: '', hourlyCost: '', managerId: '', email: '' }));
    expect(result.user).toMatchObject({ extId: '', birthDate: '', hourlyCost: '', managerId: '', email: '' });
    const row = await userRow(user.id);
    expect(row).toMatchObject({ ext_id: null, birth_date: null, hourly_cost: null, manager_id: null, email: '' });
    expect([...userChanged(events[0]).changedFields].sort()).toEqual(['birth_date', 'email', 'ext_id', 'hourly_cost', 'manager_id']);
  });

  it('refuses an activation date after the expiration date, on create and on change', async () => {
    const onCreate = await log.refused(() =>
      api.users.createUser({
        fields: {
          login: 'late',
          lastName: 'L',
          firstName: 'L',
          organisationId: org.sales,
          activationDate: '2030-01-01',
          expirationDate: '2029-12-31',
        },
        audienceIds: [],
      }),
    );
    expect(onCreate).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'expirationDate' });
    expect(onCreate.message).toContain('activationDate');

    // Against the dates the user already has.
    const user = await newUser('dated', { activationDate: '2024-01-01', expirationDate: '2024-12-31' });
    expect(await log.refused(() => update(user.id, { activationDate: '2025-01-01' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'expirationDate',
    });
    expect(await log.refused(() => update(user.id, { expirationDate: '2023-12-31' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'expirationDate',
    });
    expect(await getUser(user.id)).toMatchObject({ activationDate: '2024-01-01', expirationDate: '2024-12-31' });
    // Both moved together, in order, is fine; so is the same day.
    const { result } = await log.act(() => update(user.id, { activationDate: '2025-01-01', expirationDate: '2025-01-01' }));
    expect(result.user).toMatchObject({ activationDate: '2025-01-01', expirationDate: '2025-01-01' });
  });

  it('refuses a user as their own manager, and an unknown manager', async () => {
    const user = await newUser('selfish');
    expect(await log.refused(() => update(user.id, { managerId: user.id }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'managerId',
    });
    expect(await log.refused(() => update(user.id, { secondaryManagerId: user.id.toUpperCase() }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'secondaryManagerId',
    });
    expect(await log.refused(() => update(user.id, { managerId: UNKNOWN_ID }))).toMatchObject({ code: 'NOT_FOUND', field: 'managerId' });
    expect(await getUser(user.id)).toMatchObject({ managerId: '', secondaryManagerId: '' });
  });

  it('refuses a manager outside the scope', async () => {
    const outside = await newUser('outsider', { organisationId: org.support });
    const user = await newUser('insider');
    const sales = await actorWithin(fixture, [org.sales]);
    expect(await log.refused(() => update(user.id, { managerId: outside.id }, sales))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'managerId',
    });
  });

  it('changes an externally managed user only with the permission users:write-external', async () => {
    const user = await newUser('imported', { externallyManaged: true, custom1: 'from HR' });
    const clerk = await actorWithin(fixture, [org.sales], ['users:read', 'users:write']);
    const err = await log.refused(() => update(user.id, { custom1: 'by hand' }, clerk));
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(err.message).toContain('imported');
    expect(await log.refused(() => update(user.id, { externallyManaged: false }, clerk))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(await getUser(user.id)).toMatchObject({ custom1: 'from HR', externallyManaged: true });

    // The administrator holds every permission, users:write-external included.
    const { result, events } = await log.act(() => update(user.id, { custom1: 'from the import' }));
    expect(result.user).toMatchObject({ custom1: 'from the import', externallyManaged: true });
    expect(userChanged(events[0]).changedFields).toEqual(['custom1']);
  });

  it('answers NOT_FOUND for an unknown user', async () => {
    expect(await log.refused(() => update(UNKNOWN_ID, { custom1: 'x' }))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(await log.refused(() => api.users.getUser({ id: '', login: 'nobody', extId: '' }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'login',
    });
  });
});

describe('delete', () => {
  it('deletes a user; their managed users lose their manager and are published as updated', async () => {
    const manager = await newUser('bigboss');
    const primary = await newUser('report1', { managerId: manager.id });
    const secondary = await newUser('report2', { secondaryManagerId: manager.id });
    const both = await newUser('report3', { managerId: manager.id, secondaryManagerId: manager.id });
    const bystander = await newUser('report4', { managerId: primary.id });
    const { list } = await api.lists.createList({
      ownerOrganisationId: '',
      name: 'Bosses',
      description: '',
      type: 'static',
      folderId: '',
      memberIds: [manager.id],
    });

    const { events, correlationId } = await log.act(() => api.users.deleteUser({ id: manager.id }));

    await expect(getUser(manager.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await userRow(manager.id)).toBeUndefined();
    expect(await getUser(primary.id)).toMatchObject({ managerId: '', secondaryManagerId: '' });
    expect(await getUser(secondary.id)).toMatchObject({ managerId: '', secondaryManagerId: '' });
    expect(await getUser(both.id)).toMatchObject({ managerId: '', secondaryManagerId: '' });
    expect((await getUser(bystander.id)).managerId).toBe(primary.id);

    expectEnvelopes(events, correlationId);
    const deleted = events.filter((e) => e.subject === 'identity.user.deleted.v1');
    expect(deleted.map((e) => UserDeleted.fromJSON(e.data))).toEqual([{ id: manager.id, login: 'bigboss', extId: '' }]);
    const left = events.filter((e) => e.subject === 'identity.list-member.left.v1').map((e) => ListMembershipChanged.fromJSON(e.data));
    expect(left).toEqual([{ listId: list!.id, userId: manager.id, listType: 'static', enteredAt: expect.any(String) }]);
    expect(Math.abs(Date.parse(left[0].enteredAt) - Date.now())).toBeLessThan(60_000);
    const updated = events.filter((e) => e.subject === 'identity.user.updated.v1').map(userChanged);
    expect(updated.map((u) => [u.user!.login, [...u.changedFields].sort(), u.user!.managerId, u.user!.secondaryManagerId]).sort()).toEqual([
      ['report1', ['manager_id'], '', ''],
      ['report2', ['secondary_manager_id'], '', ''],
      ['report3', ['manager_id', 'secondary_manager_id'], '', ''],
    ]);
    expect(events).toHaveLength(5);
    expect((await api.lists.getList({ id: list!.id })).list!.memberCount).toBe(0);
  });

  it('takes back the roles of a deleted user, with an event for each grant', async () => {
    const user = await newUser('granted-then-gone');
    await api.roles.grantRoles({ userIds: [user.id], roleIds: [ADMINISTRATOR_ROLE_ID], organisationId: ROOT_ORGANISATION_ID });
    const { events } = await log.act(() => api.users.deleteUser({ id: user.id }));
    expect(subjects(events)).toEqual(['identity.role.revoked.v1', 'identity.user.deleted.v1']);
    expect(RoleGrantChanged.fromJSON(events[0].data).grant).toMatchObject({ userId: user.id, roleId: ADMINISTRATOR_ROLE_ID });
  });

  it('refuses to delete, or set the password of, an externally managed user without the permission', async () => {
    const user = await newUser('managed-elsewhere', { externallyManaged: true });
    const clerk = await actorWithin(fixture, [org.sales], ['users:read', 'users:write']);
    const refused = await log.refused(() => clerk.users.deleteUser({ id: user.id }));
    expect(refused).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(refused.message).toMatch(/managed by an external system/);
    expect(
      await log.refused(() =>
        clerk.users.setUserPassword({
          id: user.id,
          password: 'a new password',
          mustChangePassword: false,
        }),
      ),
    ).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(await userRow(user.id)).toBeDefined();
    await api.users.deleteUser({ id: user.id });
    expect(await userRow(user.id)).toBeUndefined();
  });

  it('answers NOT_FOUND for an unknown user', async () => {
    expect(await log.refused(() => api.users.deleteUser({ id: UNKNOWN_ID }))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('audiences', () => {
  it('adds and removes audiences, publishing an update for each user that changed', async () => {
    const a = await newUser('aud-a');
    const b = await newUser('aud-b', {}, { audienceIds: [audience.Managers] });

    const added = await log.act(() => api.users.addUserAudiences({ userIds: [a.id, b.id], audienceIds: [audience.Managers] }));
    expect(added.result.changed).toBe(1);
    expect((await getUser(a.id)).audiences).toEqual([{ id: audience.Managers, name: 'Managers' }]);
    expect(subjects(added.events)).toEqual(['identity.user.updated.v1']);
    expectEnvelopes(added.events, added.correlationId);
    const data = userChanged(added.events[0]);
    expect(data.user!.id).toBe(a.id);
    expect(data.changedFields).toEqual(['audiences']);
    expect(data.user!.audiences).toEqual([{ id: audience.Managers, name: 'Managers' }]);

    const both = await log.act(() =>
      api.users.addUserAudiences({ userIds: [a.id, b.id], audienceIds: [audience.Managers, audience.Newcomers] }),
    );
    expect(both.result.changed).toBe(2);
    expect((await getUser(b.id)).audiences.map((x) => x.name)).toEqual(['Managers', 'Newcomers']);
    expect(both.events.map((e) => userChanged(e).user!.id).sort()).toEqual([a.id, b.id].sort());

    const again = await log.act(() => api.users.addUserAudiences({ userIds: [a.id], audienceIds: [audience.Managers] }));
    expect(again.result.changed).toBe(0);
    expect(again.events).toEqual([]);

    const removed = await log.act(() => api.users.removeUserAudiences({ userIds: [a.id, b.id], audienceIds: [audience.Newcomers] }));
    expect(removed.result.changed).toBe(2);
    expect((await getUser(a.id)).audiences.map((x) => x.name)).toEqual(['Managers']);
    expect(removed.events.map((e) => [userChanged(e).user!.id, userChanged(e).changedFields])).toEqual(
      expect.arrayContaining([
        [a.id, ['audiences']],
        [b.id, ['audiences']],
      ]),
    );
    expectEnvelopes(removed.events, removed.correlationId);

    const none = await log.act(() => api.users.removeUserAudiences({ userIds: [a.id], audienceIds: [audience.Newcomers] }));
    expect(none.result.changed).toBe(0);
    expect(none.events).toEqual([]);
  });

  it('refuses unknown users and audiences, and users outside the scope', async () => {
    const a = await newUser('aud-c');
    expect(await log.refused(() => api.users.addUserAudiences({ userIds: [a.id], audienceIds: [UNKNOWN_ID] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'audienceIds',
    });
    expect(await log.refused(() => api.users.addUserAudiences({ userIds: [UNKNOWN_ID], audienceIds: [audience.Managers] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'userIds',
    });
    const support = await actorWithin(fixture, [org.support]);
    expect(await log.refused(() => support.users.addUserAudiences({ userIds: [a.id], audienceIds: [audience.Managers] }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'userIds',
    });
    expect((await getUser(a.id)).audiences).toEqual([]);
  });
});

describe('SetUserPassword', () => {
  it('sets a password that then works, publishing "password" as changed', async () => {
    const user = await newUser('pwd');
    expect(user.hasPassword).toBe(false);
    const { events, correlationId } = await log.act(() =>
      api.users.setUserPassword({
        id: user.id,
        password: 'correct horse battery',
        mustChangePassword: true,
      }),
    );
    const after = await getUser(user.id);
    expect(after).toMatchObject({ hasPassword: true, mustChangePassword: true });
    expect(subjects(events)).toEqual(['identity.user.updated.v1']);
    expectEnvelopes(events, correlationId);
    const data = userChanged(events[0]);
    expect([...data.changedFields].sort()).toEqual(['must_change_password', 'password']);
    expect(data.user).toEqual(after);
    expect(JSON.stringify(events[0])).not.toContain('correct horse');

    const { principal } = await api.auth.authenticate({ loginPassword: { login: 'pwd', password: 'correct horse battery' } });
    expect(principal?.userId).toBe(user.id);

    const again = await log.act(() =>
      api.users.setUserPassword({
        id: user.id,
        password: 'another good one',
        mustChangePassword: true,
      }),
    );
    expect(userChanged(again.events[0]).changedFields).toEqual(['password']);
    await expect(api.auth.authenticate({ loginPassword: { login: 'pwd', password: 'correct horse battery' } })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('refuses a password too short, and an unknown user', async () => {
    const user = await newUser('pwd2');
    expect(await log.refused(() => api.users.setUserPassword({ id: user.id, password: 'short', mustChangePassword: false }))).toMatchObject(
      {
        code: 'INVALID_ARGUMENT',
        field: 'password',
      },
    );
    expect(
      await log.refused(() =>
        api.users.setUserPassword({
          id: UNKNOWN_ID,
          password: 'long enough',
          mustChangePassword: false,
        }),
      ),
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect((await getUser(user.id)).hasPassword).toBe(false);
  });
});
