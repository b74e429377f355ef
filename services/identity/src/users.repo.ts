import { checkId, checkIds, invalidArgument, notFound, Params, prepared, type Queryable } from '@assistants/kit';
import type { User } from '@assistants/proto/gen/identity/v1/users';
import type { ResolvedScope } from './scope';

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
  /** Tree path of its organisation (authorisation reads it). */
  organisation_path?: string;
};

/** The columns of the users table a UserRow has, of the user `u` (listed: findUser's prepared
 * statements would fail on a `*` once a migration adds a column). */
export const USER_STORED_COLUMNS = `
  u.id, u.login, u.ext_id, u.last_name, u.first_name, u.title, u.email, u.language, u.birth_date, u.activation_date,
  u.expiration_date, u.disabled, u.organisation_id, u.manager_id, u.secondary_manager_id, u.address_line1,
  u.address_line2, u.zip, u.city, u.country, u.phone, u.cellphone, u.hourly_cost, u.custom1, u.custom2, u.custom3,
  u.custom4, u.custom5, u.custom6, u.custom7, u.custom8, u.custom9, u.custom10, u.job_position, u.two_factor,
  u.externally_managed, u.password_hash, u.must_change_password, u.last_login_at, u.created_at, u.updated_at`;

/** A user's audiences, sorted by name, as a json array (of the user `u`). */
const USER_AUDIENCES = `coalesce((
    SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY lower(a.name))
    FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = u.id), '[]'::json)`;

/** The columns of the users table (USER_STORED_COLUMNS), then their audiences and the path
 * of their organisation. */
export const USER_COLUMNS = `${USER_STORED_COLUMNS}, ${USER_AUDIENCES} AS audiences,
    (SELECT uo.path FROM organisations uo WHERE uo.id = u.organisation_id) AS organisation_path`;

export const USER_SELECT = `SELECT ${USER_COLUMNS} FROM users u`;

/** The audiences of these users now, by user (a user without any: an empty list). */
export async function audiencesOf(q: Queryable, ids: string[]): Promise<Map<string, { id: string; name: string }[]>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<{ id: string; audiences: { id: string; name: string }[] }>(
    `SELECT u.id, ${USER_AUDIENCES} AS audiences FROM users u WHERE u.id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.audiences]));
}

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
 * otherwise (a user outside the scope does not exist for the caller).
 *
 * Prepared once per connection for each of its few shapes (by id, login or external id;
 * everything, some sub-trees or nothing in scope; locked or not): reading one user is the
 * most frequent call, and planning this statement took several times as long as running it. */
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
    prepared(`${USER_SELECT} WHERE ${where} AND ${scope.userCondition(p, 'u')}${lock ? ' FOR UPDATE OF u' : ''}`),
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

/** Enabled, and within its activation and expiration dates (calendar days, UTC). */
export function mayLogIn(user: Pick<UserRow, 'disabled' | 'activation_date' | 'expiration_date'>): boolean {
  const day = new Date().toISOString().slice(0, 10);
  return !user.disabled && (!user.activation_date || user.activation_date <= day) && (!user.expiration_date || user.expiration_date >= day);
}
