import {
  alreadyExists,
  checkAmount,
  checkDate,
  checkId,
  checkOneOf,
  checkText,
  type Emit,
  failedPrecondition,
  invalidArgument,
  notFound,
  Params,
  permissionDenied,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import type { User, UserFields } from '@assistants/proto/gen/identity/v1/users';
import { requireAudiences } from './audiences.repo';
import { requireCovered, type Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { loadOrganisations, toOrganisation, type OrganisationRow } from './organisations.repo';
import { grantsOf } from './roles.repo';
import type { ResolvedScope } from './scope';
import { findUser, loadUsers, requireVisibleUsers, toUser, type UserRef, type UserRow } from './users.repo';
import { checkEmail, checkLogin, LANGUAGES, TITLES, TWO_FACTOR_MODES } from './validation';

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

export const ALL_COLUMNS = Object.values(FIELDS).map((f) => f.column);
const FIELD_SPECS = Object.entries(FIELDS) as [keyof UserFields, (typeof FIELDS)[keyof UserFields]][];

/** The columns a UserFields sets, with their checked values; absent fields are left out. */
export function columnsOf(fields: UserFields): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, spec] of FIELD_SPECS) {
    const value = fields[key];
    if (value !== undefined) values.set(spec.column, (spec.check as (f: string, v: unknown) => unknown)(key, value));
  }
  return values;
}

/** Checks what a change points to: the organisation and the managers must be visible in
 * the scope, a user is not its own manager, activation comes before expiration. Returns the
 * organisation when the change sets one. */
async function checkReferences(
  q: Queryable,
  scope: ResolvedScope,
  values: Map<string, unknown>,
  merged: Record<string, unknown>,
  id: string | null,
): Promise<OrganisationRow | undefined> {
  let organisation: OrganisationRow | undefined;
  if (values.has('organisation_id')) {
    const orgId = values.get('organisation_id') as string;
    [organisation] = await loadOrganisations(q, [orgId]);
    if (!organisation || !scope.includesPath(organisation.path)) throw notFound(`no organisation with id ${orgId}`, 'organisationId');
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
  checkActivationDates(merged);
  return organisation;
}

/** Activation comes before expiration (`merged`: the user's columns after the change). */
export function checkActivationDates(merged: Record<string, unknown>): void {
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

export interface NewUser {
  fields: UserFields;
  passwordHash: string | null;
  audienceIds: string[];
}

export async function getUser(q: Queryable, caller: Caller, ref: UserRef): Promise<User> {
  return toUser(await findUser(q, caller.scope('users:read'), ref));
}

export async function createUser(tx: Queryable, emit: Emit, caller: Caller, input: NewUser): Promise<User> {
  const scope = caller.scope('users:write');
  const values = columnsOf(input.fields);
  for (const [field, column] of [
    ['login', 'login'],
    ['lastName', 'last_name'],
    ['firstName', 'first_name'],
    ['organisationId', 'organisation_id'],
  ]) {
    if (!values.has(column)) throw invalidArgument(field, `${field} is required`);
  }
  const organisation = await checkReferences(tx, scope, values, Object.fromEntries(values), null);
  if (values.get('externally_managed') === true) requireExternalWrite(caller, organisation!.path, String(values.get('login')));
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

/** Users kept up to date by an external system (through imports) change only for holders
 * of users:write-external on their organisation. */
export function checkNotExternallyManaged(caller: Caller, user: UserRow): void {
  if (user.externally_managed && !caller.holds('users:write-external', user.organisation_path!)) {
    throw failedPrecondition(
      `user "${user.login}" is managed by an external system: it changes through its import, or with the permission users:write-external`,
    );
  }
}

export function requireExternalWrite(caller: Caller, path: string, login: string): void {
  if (!caller.holds('users:write-external', path)) {
    throw permissionDenied(
      `marking "${login}" as managed by an external system needs the permission users:write-external`,
      'externallyManaged',
    );
  }
}

/** The user `id` as the target of a change: seen in the scope of users:write, holding no
 * more rights than the caller, and not managed by an external system unless the caller may
 * change those. */
export async function findTarget(tx: Queryable, caller: Caller, id: string): Promise<UserRow> {
  const user = await findUser(tx, caller.scope('users:write'), { id }, true);
  await requireCovered(tx, caller, [user.id], 'id');
  checkNotExternallyManaged(caller, user);
  return user;
}

/** Normalised for comparison: what the row holds and what a change sets must compare equal
 * when they mean the same value. */
export function same(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

export async function updateUser(tx: Queryable, emit: Emit, caller: Caller, id: string, fields: UserFields): Promise<User> {
  const scope = caller.scope('users:write');
  const current = await findUser(tx, scope, { id }, true);
  const values = columnsOf(fields);
  for (const [column, value] of values) {
    if (same((current as unknown as Record<string, unknown>)[column], value)) values.delete(column);
  }
  if (values.size === 0) return toUser(current);
  await requireCovered(tx, caller, [current.id], 'id');
  checkNotExternallyManaged(caller, current);
  if (values.has('externally_managed')) requireExternalWrite(caller, current.organisation_path!, current.login);
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

export async function deleteUser(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  const user = await findTarget(tx, caller, id);
  const grants = await grantsOf(tx, user.id);
  const memberships = await tx.query<{ list_id: string; type: string; at: Date }>(
    'SELECT m.list_id, l.type, now() AS at FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.user_id = $1',
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

  for (const m of memberships.rows) {
    events.listMemberLeft(emit, { listId: m.list_id, userId: user.id, listType: m.type, enteredAt: m.at.toISOString() });
  }
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
  caller: Caller,
  id: string,
  change: { passwordHash: string; mustChangePassword: boolean },
): Promise<void> {
  const { passwordHash, mustChangePassword } = change;
  const user = await findTarget(tx, caller, id);
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
  caller: Caller,
  change: 'add' | 'remove',
  userIds: string[],
  audienceIds: string[],
): Promise<number> {
  const users = await requireVisibleUsers(tx, caller.scope('users:write'), userIds, 'userIds');
  await requireCovered(tx, caller, users, 'userIds');
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
