import { alreadyExists, failedPrecondition, invalidArgument, notFound, type Emit, type Queryable } from '@assistants/kit';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import { events } from './events';
import { refreshDynamicLists } from './lists';
import { grantsOf } from './roles';
import { loadOrganisations, toOrganisation } from './organisations';
import type { ResolvedScope } from './scope';
import { Params, uniqueViolation } from './sql';
import {
  checkAmount,
  checkDate,
  checkEmail,
  checkId,
  checkIds,
  checkLogin,
  checkOneOf,
  checkText,
  LANGUAGES,
  TITLES,
  TWO_FACTOR_MODES,
} from './validation';

export type UserRow = {
  id: string;
  login: string;
  ext_id: string | null;
  last_name: string;
  first_name: string;
  title: string;
  email: string;
  language: string;
  birth_date: string | null;
  activation_date: string | null;
  expiration_date: string | null;
  disabled: boolean;
  organisation_id: string;
  manager_id: string | null;
  secondary_manager_id: string | null;
  address_line1: string;
  address_line2: string;
  zip: string;
  city: string;
  country: string;
  phone: string;
  cellphone: string;
  hourly_cost: string | null;
  custom1: string;
  custom2: string;
  custom3: string;
  custom4: string;
  custom5: string;
  custom6: string;
  custom7: string;
  custom8: string;
  custom9: string;
  custom10: string;
  job_position: string;
  two_factor: string;
  externally_managed: boolean;
  password_hash: string | null;
  must_change_password: boolean;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
  audiences?: { id: string; name: string }[];
};

const text = (max: number) => (field: string, value: string) => checkText(field, value, { max });
const nullableText = (max: number) => (field: string, value: string) => checkText(field, value, { max }) || null;

/** Each field of UserFields: its column and how a given value is checked. */
const FIELDS: { [K in keyof UserFields]-?: { column: string; check: (field: string, value: NonNullable<UserFields[K]>) => unknown } } = {
  login: { column: 'login', check: checkLogin },
  extId: { column: 'ext_id', check: nullableText(100) },
  lastName: { column: 'last_name', check: (f, v) => checkText(f, v, { required: true, max: 100 }) },
  firstName: { column: 'first_name', check: (f, v) => checkText(f, v, { required: true, max: 100 }) },
  title: { column: 'title', check: (f, v) => checkOneOf(f, v, TITLES) },
  email: { column: 'email', check: checkEmail },
  language: { column: 'language', check: (f, v) => checkOneOf(f, v, LANGUAGES) },
  birthDate: { column: 'birth_date', check: checkDate },
  activationDate: { column: 'activation_date', check: checkDate },
  expirationDate: { column: 'expiration_date', check: checkDate },
  disabled: { column: 'disabled', check: (_f, v) => v },
  organisationId: { column: 'organisation_id', check: (f, v) => checkId(f, v) },
  managerId: { column: 'manager_id', check: (f, v) => checkId(f, v, true) || null },
  secondaryManagerId: { column: 'secondary_manager_id', check: (f, v) => checkId(f, v, true) || null },
  addressLine1: { column: 'address_line1', check: text(255) },
  addressLine2: { column: 'address_line2', check: text(255) },
  zip: { column: 'zip', check: text(20) },
  city: { column: 'city', check: text(100) },
  country: { column: 'country', check: text(100) },
  phone: { column: 'phone', check: text(40) },
  cellphone: { column: 'cellphone', check: text(40) },
  hourlyCost: { column: 'hourly_cost', check: checkAmount },
  custom1: { column: 'custom1', check: text(255) },
  custom2: { column: 'custom2', check: text(255) },
  custom3: { column: 'custom3', check: text(255) },
  custom4: { column: 'custom4', check: text(255) },
  custom5: { column: 'custom5', check: text(255) },
  custom6: { column: 'custom6', check: text(255) },
  custom7: { column: 'custom7', check: text(255) },
  custom8: { column: 'custom8', check: text(255) },
  custom9: { column: 'custom9', check: text(255) },
  custom10: { column: 'custom10', check: text(255) },
  jobPosition: { column: 'job_position', check: text(100) },
  twoFactor: { column: 'two_factor', check: (f, v) => checkOneOf(f, v, TWO_FACTOR_MODES) },
  externallyManaged: { column: 'externally_managed', check: (_f, v) => v },
  mustChangePassword: { column: 'must_change_password', check: (_f, v) => v },
};

const ALL_COLUMNS = Object.values(FIELDS).map((f) => f.column);

/** The columns a UserFields sets, with their checked values; absent fields are left out. */
function columnsOf(fields: UserFields): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(FIELDS) as [keyof UserFields, (typeof FIELDS)[keyof UserFields]][]) {
    const value = fields[key];
    if (value !== undefined) values.set(spec.column, (spec.check as (f: string, v: unknown) => unknown)(key, value));
  }
  return values;
}

const USER_SELECT = `
  SELECT u.*, coalesce((
    SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY lower(a.name))
    FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = u.id), '[]'::json) AS audiences
  FROM users u`;

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    login: row.login,
    extId: row.ext_id ?? '',
    lastName: row.last_name,
    firstName: row.first_name,
    title: row.title,
    email: row.email,
    language: row.language,
    birthDate: row.birth_date ?? '',
    activationDate: row.activation_date ?? '',
    expirationDate: row.expiration_date ?? '',
    disabled: row.disabled,
    organisationId: row.organisation_id,
    managerId: row.manager_id ?? '',
    secondaryManagerId: row.secondary_manager_id ?? '',
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    zip: row.zip,
    city: row.city,
    country: row.country,
    phone: row.phone,
    cellphone: row.cellphone,
    hourlyCost: row.hourly_cost ?? '',
    custom1: row.custom1,
    custom2: row.custom2,
    custom3: row.custom3,
    custom4: row.custom4,
    custom5: row.custom5,
    custom6: row.custom6,
    custom7: row.custom7,
    custom8: row.custom8,
    custom9: row.custom9,
    custom10: row.custom10,
    jobPosition: row.job_position,
    twoFactor: row.two_factor,
    externallyManaged: row.externally_managed,
    lastLoginAt: row.last_login_at?.toISOString() ?? '',
    hasPassword: row.password_hash !== null,
    mustChangePassword: row.must_change_password,
    audiences: row.audiences ?? [],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Users by id, with their audiences, in the order of `ids`. */
export async function loadUsers(q: Queryable, ids: string[]): Promise<User[]> {
  const { rows } = await q.query<UserRow & { audiences: { id: string; name: string }[] }>(`${USER_SELECT} WHERE u.id = ANY($1)`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, toUser(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export interface UserRef {
  id?: string;
  login?: string;
  extId?: string;
}

/** The row of a user the scope can see, locked for update when `lock` is set; NOT_FOUND
 * otherwise (a user outside the scope does not exist for the caller). */
export async function findUser(q: Queryable, scope: ResolvedScope, ref: UserRef, lock = false): Promise<UserRow> {
  const p = new Params();
  let where: string;
  let label: string;
  if (ref.id) {
    where = `u.id = ${p.add(checkId('id', ref.id))}`;
    label = `id ${ref.id}`;
  } else if (ref.login) {
    where = `lower(u.login) = lower(${p.add(ref.login)})`;
    label = `login "${ref.login}"`;
  } else if (ref.extId) {
    where = `lower(u.ext_id) = lower(${p.add(ref.extId)})`;
    label = `external id "${ref.extId}"`;
  } else {
    throw invalidArgument('id', 'give the id, the login or the external id of the user');
  }
  const { rows } = await q.query<UserRow>(
    `${USER_SELECT} WHERE ${where} AND ${scope.userCondition(p, 'u')}${lock ? ' FOR UPDATE OF u' : ''}`,
    p.values,
  );
  if (rows.length === 0) throw notFound(`no user with ${label}`, ref.id ? 'id' : ref.login ? 'login' : 'extId');
  return rows[0];
}

/** The ids among `ids` of users the scope can see; NOT_FOUND naming the others. */
export async function requireVisibleUsers(q: Queryable, scope: ResolvedScope, ids: string[], field: string): Promise<string[]> {
  const checked = checkIds(field, ids);
  const p = new Params();
  const { rows } = await q.query<{ id: string }>(
    `SELECT u.id FROM users u WHERE u.id = ANY(${p.add(checked)}) AND ${scope.userCondition(p, 'u')}`,
    p.values,
  );
  if (rows.length < checked.length) {
    const found = new Set(rows.map((r) => r.id));
    const missing = checked.filter((id) => !found.has(id));
    throw notFound(
      `no user with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}`,
      field,
    );
  }
  return checked;
}

/** Checks what a change points to: the organisation and the managers must be visible in
 * the scope, a user is not its own manager, activation comes before expiration. */
async function checkReferences(
  q: Queryable,
  scope: ResolvedScope,
  values: Map<string, unknown>,
  merged: Record<string, unknown>,
  id: string | null,
) {
  if (values.has('organisation_id')) {
    const orgId = values.get('organisation_id') as string;
    const [org] = await loadOrganisations(q, [orgId]);
    if (!org || !scope.includesPath(org.path)) throw notFound(`no organisation with id ${orgId}`, 'organisationId');
  }
  for (const [column, field] of [
    ['manager_id', 'managerId'],
    ['secondary_manager_id', 'secondaryManagerId'],
  ] as const) {
    const managerId = values.get(column) as string | null | undefined;
    if (!managerId) continue;
    if (managerId === id) throw invalidArgument(field, `a user cannot be their own manager`);
    await requireVisibleUsers(q, scope, [managerId], field);
  }
  const activation = merged.activation_date as string | null;
  const expiration = merged.expiration_date as string | null;
  if (activation && expiration && activation > expiration) {
    throw invalidArgument('expirationDate', `expirationDate (${expiration}) is before activationDate (${activation})`);
  }
}

function mapUniqueViolation(err: unknown, values: Map<string, unknown>): never {
  const constraint = uniqueViolation(err);
  if (constraint === 'users_login_key') {
    throw alreadyExists(`login "${values.get('login')}" is already used by another user`, 'login');
  }
  if (constraint === 'users_ext_id_key') {
    throw alreadyExists(`external id "${values.get('ext_id')}" is already used by another user`, 'extId');
  }
  throw err;
}

async function requireAudiences(q: Queryable, audienceIds: string[], field: string): Promise<string[]> {
  const ids = checkIds(field, audienceIds);
  const { rows } = await q.query<{ id: string }>('SELECT id FROM audiences WHERE id = ANY($1)', [ids]);
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw notFound(`no audience with id ${ids.filter((id) => !found.has(id)).join(', ')}`, field);
  }
  return ids;
}

export interface NewUser {
  fields: UserFields;
  passwordHash: string | null;
  audienceIds: string[];
}

export async function createUser(tx: Queryable, emit: Emit, scope: ResolvedScope, input: NewUser): Promise<User> {
  const values = columnsOf(input.fields);
  for (const [field, column] of [
    ['login', 'login'],
    ['lastName', 'last_name'],
    ['firstName', 'first_name'],
    ['organisationId', 'organisation_id'],
  ]) {
    if (!values.has(column)) throw invalidArgument(field, `${field} is required`);
  }
  await checkReferences(tx, scope, values, Object.fromEntries(values), null);
  const audienceIds = await requireAudiences(tx, input.audienceIds, 'audienceIds');
  values.set('password_hash', input.passwordHash);
  const p = new Params();
  const columns = [...values.keys()];
  const placeholders = columns.map((c) => p.add(values.get(c)));
  let id: string;
  try {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO users (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING id`,
      p.values,
    );
    id = rows[0].id;
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  if (audienceIds.length > 0) {
    await tx.query('INSERT INTO user_audiences (user_id, audience_id) SELECT $1, unnest($2::uuid[])', [id, audienceIds]);
  }
  await refreshDynamicLists(tx, emit, { userIds: [id] });
  const [user] = await loadUsers(tx, [id]);
  events.userCreated(emit, { user, changedFields: [...ALL_COLUMNS, ...(audienceIds.length ? ['audiences'] : [])] });
  return user;
}

/** Users kept up to date by an external system (through imports) refuse manual changes. */
function checkNotExternallyManaged(user: UserRow, allowed: boolean): void {
  if (user.externally_managed && !allowed) {
    throw failedPrecondition(
      `user "${user.login}" is managed by an external system: it changes through its import, or with the permission users:write-external`,
    );
  }
}

/** Normalised for comparison: what the row holds and what a change sets must compare equal
 * when they mean the same value. */
function same(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

export async function updateUser(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  id: string,
  fields: UserFields,
  allowExternallyManaged: boolean,
): Promise<User> {
  const current = await findUser(tx, scope, { id }, true);
  const values = columnsOf(fields);
  for (const [column, value] of values) {
    if (same((current as unknown as Record<string, unknown>)[column], value)) values.delete(column);
  }
  if (values.size === 0) return toUser(current);
  checkNotExternallyManaged(current, allowExternallyManaged);
  await checkReferences(tx, scope, values, { ...current, ...Object.fromEntries(values) }, current.id);
  const p = new Params();
  const assignments = [...values].map(([column, value]) => `${column} = ${p.add(value)}`);
  try {
    await tx.query(`UPDATE users SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  await refreshDynamicLists(tx, emit, { userIds: [current.id] });
  const [user] = await loadUsers(tx, [current.id]);
  events.userUpdated(emit, { user, changedFields: [...values.keys()] });
  return user;
}

export async function deleteUser(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  id: string,
  allowExternallyManaged: boolean,
): Promise<void> {
  const user = await findUser(tx, scope, { id }, true);
  checkNotExternallyManaged(user, allowExternallyManaged);
  const grants = await grantsOf(tx, user.id);
  const memberships = await tx.query<{ list_id: string; type: string }>(
    'SELECT m.list_id, l.type FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.user_id = $1',
    [user.id],
  );
  const managed = await tx.query<{ id: string; primary: boolean; secondary: boolean }>(
    'SELECT id, manager_id = $1 AS primary, secondary_manager_id = $1 AS secondary FROM users WHERE manager_id = $1 OR secondary_manager_id = $1',
    [user.id],
  );
  const supervised = await tx.query<{ id: string }>('SELECT id FROM organisations WHERE supervisor_id = $1', [user.id]);
  await tx.query('DELETE FROM users WHERE id = $1', [user.id]);
  await tx.query('UPDATE users SET updated_at = now() WHERE id = ANY($1)', [managed.rows.map((r) => r.id)]);
  await tx.query('UPDATE organisations SET updated_at = now() WHERE id = ANY($1)', [supervised.rows.map((r) => r.id)]);

  for (const m of memberships.rows) events.listMemberLeft(emit, { listId: m.list_id, userId: user.id, listType: m.type });
  for (const grant of grants) events.roleRevoked(emit, { grant });
  events.userDeleted(emit, { id: user.id, login: user.login, extId: user.ext_id ?? '' });
  const managedUsers = await loadUsers(
    tx,
    managed.rows.map((r) => r.id),
  );
  managed.rows.forEach((r, i) => {
    const changedFields = [...(r.primary ? ['manager_id'] : []), ...(r.secondary ? ['secondary_manager_id'] : [])];
    events.userUpdated(emit, { user: managedUsers[i], changedFields });
  });
  if (supervised.rows.length > 0) {
    for (const org of await loadOrganisations(
      tx,
      supervised.rows.map((r) => r.id),
    )) {
      events.organisationUpdated(emit, { organisation: toOrganisation(org), changedFields: ['supervisor_id'] });
    }
  }
}

export async function setPassword(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  id: string,
  change: { passwordHash: string; mustChangePassword: boolean; allowExternallyManaged: boolean },
): Promise<void> {
  const { passwordHash, mustChangePassword } = change;
  const user = await findUser(tx, scope, { id }, true);
  checkNotExternallyManaged(user, change.allowExternallyManaged);
  await tx.query('UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now() WHERE id = $1', [
    user.id,
    passwordHash,
    mustChangePassword,
  ]);
  // A new password ends the sessions opened with the old one.
  await tx.query('DELETE FROM sessions WHERE user_id = $1', [user.id]);
  const [updated] = await loadUsers(tx, [user.id]);
  const changedFields = ['password', ...(user.must_change_password !== mustChangePassword ? ['must_change_password'] : [])];
  events.userUpdated(emit, { user: updated, changedFields });
}

/** Adds (or removes) audiences to (from) users; returns how many users changed. */
export async function changeAudiences(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  change: 'add' | 'remove',
  userIds: string[],
  audienceIds: string[],
): Promise<number> {
  const users = await requireVisibleUsers(tx, scope, userIds, 'userIds');
  const audiences = await requireAudiences(tx, audienceIds, 'audienceIds');
  const { rows } =
    change === 'add'
      ? await tx.query<{ user_id: string }>(
          `INSERT INTO user_audiences (user_id, audience_id)
           SELECT u, a FROM unnest($1::uuid[]) u CROSS JOIN unnest($2::uuid[]) a
           ON CONFLICT DO NOTHING RETURNING user_id`,
          [users, audiences],
        )
      : await tx.query<{ user_id: string }>(
          'DELETE FROM user_audiences WHERE user_id = ANY($1) AND audience_id = ANY($2) RETURNING user_id',
          [users, audiences],
        );
  const changed = [...new Set(rows.map((r) => r.user_id))];
  if (changed.length === 0) return 0;
  await tx.query('UPDATE users SET updated_at = now() WHERE id = ANY($1)', [changed]);
  await emitAudiencesChanged(tx, emit, changed);
  return changed.length;
}

/** After users' audiences changed: dynamic lists follow, and each user gets an event. */
export async function emitAudiencesChanged(tx: Queryable, emit: Emit, userIds: string[]): Promise<void> {
  await refreshDynamicLists(tx, emit, { userIds });
  for (const user of await loadUsers(tx, userIds)) events.userUpdated(emit, { user, changedFields: ['audiences'] });
}
