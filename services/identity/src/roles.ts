import {
  alreadyExists,
  checkId,
  checkIds,
  checkText,
  containsPattern,
  type Emit,
  failedPrecondition,
  invalidArgument,
  notFound,
  Params,
  permissionDenied,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import type { Role, RoleGrant } from '@assistants/proto/gen/identity/v1/roles';
import type { Caller } from './caller';
import { events } from './events';
import { findOrganisation } from './organisations.repo';
import { pageOf, type PageRequest } from './paging';
import { checkPermissions } from './permissions';
import { findRole, GRANT_SELECT, grantsOf, toGrant, toRole, type GrantRow, type RoleRow } from './roles.repo';
import { ROOT_PATH } from './scope';
import { findUser, requireVisibleUsers } from './users.repo';

function mapUniqueViolation(err: unknown, name: unknown): never {
  if (uniqueViolation(err) === 'roles_name_key') throw alreadyExists(`a role named "${name}" already exists`, 'name');
  throw err;
}

/** Whoever defines roles holds, everywhere, every permission it puts in them: otherwise it
 * could write itself a stronger role and have it given to itself. */
function requireHeldEverywhere(caller: Caller, permissions: string[]): void {
  const missing = caller.missing(permissions, ROOT_PATH);
  if (missing) throw permissionDenied(`you cannot put ${missing} in a role: you do not hold it on the root organisation`, 'permissions');
}

export async function createRole(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  input: { name: string; description: string; permissions: string[] },
): Promise<Role> {
  caller.requireRoot('roles:write');
  const name = checkText('name', input.name, { required: true, max: 100 });
  const permissions = await checkPermissions(tx, input.permissions);
  requireHeldEverywhere(caller, permissions);
  try {
    const { rows } = await tx.query<RoleRow>('INSERT INTO roles (name, description, permissions) VALUES ($1, $2, $3) RETURNING *', [
      name,
      checkText('description', input.description, { max: 2000 }),
      permissions,
    ]);
    const role = toRole(rows[0]);
    events.roleCreated(emit, { role });
    return role;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
}

export async function updateRole(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  id: string,
  changes: { name?: string; description?: string; permissions?: string[] },
): Promise<Role> {
  caller.requireRoot('roles:write');
  const current = await findRole(tx, id, 'id', true);
  if (current.built_in) throw failedPrecondition(`role "${current.name}" is built in and cannot be changed`);
  const name = changes.name === undefined ? current.name : checkText('name', changes.name, { required: true, max: 100 });
  const description =
    changes.description === undefined ? current.description : checkText('description', changes.description, { max: 2000 });
  const permissions = changes.permissions === undefined ? current.permissions : await checkPermissions(tx, changes.permissions);
  if (name === current.name && description === current.description && permissions.join() === current.permissions.join()) {
    return toRole(current);
  }
  requireHeldEverywhere(
    caller,
    permissions.filter((p) => !current.permissions.includes(p)),
  );
  let row: RoleRow;
  try {
    ({
      rows: [row],
    } = await tx.query<RoleRow>(
      'UPDATE roles SET name = $2, description = $3, permissions = $4, updated_at = now() WHERE id = $1 RETURNING *',
      [current.id, name, description, permissions],
    ));
  } catch (err) {
    mapUniqueViolation(err, name);
  }
  const role = toRole(row);
  events.roleUpdated(emit, { role });
  return role;
}

export async function deleteRole(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireRoot('roles:write');
  const role = await findRole(tx, id, 'id', true);
  if (role.built_in) throw failedPrecondition(`role "${role.name}" is built in and cannot be deleted`);
  const { rows } = await tx.query<{ user_id: string; organisation_id: string }>(
    'DELETE FROM role_grants WHERE role_id = $1 RETURNING user_id, organisation_id',
    [role.id],
  );
  await tx.query('DELETE FROM roles WHERE id = $1', [role.id]);
  for (const r of rows) {
    events.roleRevoked(emit, {
      grant: { userId: r.user_id, roleId: role.id, roleName: role.name, organisationId: r.organisation_id, permissions: role.permissions },
    });
  }
  events.roleDeleted(emit, { id: role.id, name: role.name });
}

/** Roles, for whoever gives them (roles:grant) or defines them (roles:write). */
export async function listRoles(q: Queryable, caller: Caller, query: string, page: PageRequest) {
  if (!caller.holdsAnywhere('roles:grant') && !caller.holdsAnywhere('roles:write')) {
    throw permissionDenied('this needs the permission roles:grant or roles:write');
  }
  const p = new Params();
  const where = query.trim() === '' ? 'TRUE' : `name ILIKE ${p.add(containsPattern(query.trim()))}`;
  return pageOf(page, {
    items: (limit, offset) =>
      q.query<RoleRow>(`SELECT * FROM roles WHERE ${where} ORDER BY lower(name), id LIMIT ${limit} OFFSET ${offset}`, p.values),
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM roles WHERE ${where}`, p.values),
    map: toRole,
  });
}

/** No escalation: a role is given (or taken back) only by someone who holds each of its
 * permissions on the organisation of the grant. */
export function requireMayGive(caller: Caller, role: RoleRow, path: string, verb: 'give' | 'take back', field: string): void {
  const missing = caller.missing(role.permissions, path);
  if (missing) {
    throw permissionDenied(`you cannot ${verb} the role "${role.name}": you do not hold ${missing} on that organisation`, field);
  }
}

/** U3: the same roles on the same scope organisation for every user; returns how many
 * grants are new. Users and organisation must be visible in the caller's scope. */
export async function grantRoles(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  input: { userIds: string[]; roleIds: string[]; organisationId: string },
): Promise<number> {
  const scope = caller.scope('roles:grant');
  const users = await requireVisibleUsers(tx, scope, input.userIds, 'userIds');
  const roleIds = checkIds('roleIds', input.roleIds);
  if (roleIds.length === 0) throw invalidArgument('roleIds', 'roleIds is required');
  const organisation = await findOrganisation(tx, scope, { id: input.organisationId }, 'organisationId');
  for (const [i, id] of roleIds.entries()) {
    requireMayGive(caller, await findRole(tx, id, `roleIds[${i}]`), organisation.path, 'give', `roleIds[${i}]`);
  }
  const { rows } = await tx.query<{ user_id: string; role_id: string }>(
    `INSERT INTO role_grants (user_id, role_id, organisation_id)
     SELECT u, r, $3 FROM unnest($1::uuid[]) u CROSS JOIN unnest($2::uuid[]) r
     ON CONFLICT DO NOTHING RETURNING user_id, role_id`,
    [users, roleIds, organisation.id],
  );
  if (rows.length > 0) {
    const { rows: granted } = await tx.query<GrantRow>(
      `${GRANT_SELECT} WHERE g.organisation_id = $1 AND (g.user_id, g.role_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))`,
      [organisation.id, rows.map((r) => r.user_id), rows.map((r) => r.role_id)],
    );
    for (const g of granted) events.roleGranted(emit, { grant: toGrant(g) });
  }
  return rows.length;
}

export async function revokeRole(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  input: { userId: string; roleId: string; organisationId: string },
): Promise<void> {
  const scope = caller.scope('roles:grant');
  const user = await findUser(tx, scope, { id: input.userId });
  const organisation = await findOrganisation(tx, scope, { id: input.organisationId }, 'organisationId');
  const role = await findRole(tx, input.roleId, 'roleId');
  const { rowCount } = await tx.query('SELECT 1 FROM role_grants WHERE user_id = $1 AND role_id = $2 AND organisation_id = $3', [
    user.id,
    role.id,
    organisation.id,
  ]);
  if (!rowCount) throw notFound('this user has no such role on this organisation', 'roleId');
  requireMayGive(caller, role, organisation.path, 'take back', 'roleId');
  await tx.query('DELETE FROM role_grants WHERE user_id = $1 AND role_id = $2 AND organisation_id = $3', [
    user.id,
    role.id,
    organisation.id,
  ]);
  events.roleRevoked(emit, {
    grant: { userId: user.id, roleId: role.id, roleName: role.name, organisationId: organisation.id, permissions: role.permissions },
  });
}

export async function listRoleGrants(q: Queryable, caller: Caller, userId: string): Promise<RoleGrant[]> {
  const user = await findUser(q, caller.scope('users:read'), { id: checkId('userId', userId) });
  return grantsOf(q, user.id);
}
