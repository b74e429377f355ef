import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isPermission,
  notFound,
  PERMISSIONS,
  type Emit,
  type Queryable,
} from '@assistants/kit';
import type { Role, RoleGrant } from '@assistants/proto/gen/identity/v1/roles';
import { events } from './events';
import { findOrganisation } from './organisations';
import { pageOf, type PageRequest } from './paging';
import type { ResolvedScope } from './scope';
import { containsPattern, Params, uniqueViolation } from './sql';
import { findUser, requireVisibleUsers } from './users';
import { checkId, checkIds, checkText } from './validation';

type RoleRow = {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  built_in: boolean;
};

function toRole(row: RoleRow): Role {
  return { id: row.id, name: row.name, description: row.description, permissions: row.permissions, builtIn: row.built_in };
}

function checkPermissions(permissions: string[]): string[] {
  permissions.forEach((permission, i) => {
    if (!isPermission(permission)) {
      throw invalidArgument(`permissions[${i}]`, `unknown permission "${permission}"; known: *, ${Object.keys(PERMISSIONS).join(', ')}`);
    }
  });
  return [...new Set(permissions)].sort();
}

function mapUniqueViolation(err: unknown, name: unknown): never {
  if (uniqueViolation(err) === 'roles_name_key') throw alreadyExists(`a role named "${name}" already exists`, 'name');
  throw err;
}

async function findRole(q: Queryable, id: string, field = 'id', lock = false): Promise<RoleRow> {
  const { rows } = await q.query<RoleRow>(`SELECT * FROM roles WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [checkId(field, id)]);
  if (rows.length === 0) throw notFound(`no role with id ${id}`, field);
  return rows[0];
}

export async function createRole(tx: Queryable, emit: Emit, name: string, description: string, permissions: string[]): Promise<Role> {
  const checkedName = checkText('name', name, { required: true, max: 100 });
  try {
    const { rows } = await tx.query<RoleRow>('INSERT INTO roles (name, description, permissions) VALUES ($1, $2, $3) RETURNING *', [
      checkedName,
      checkText('description', description, { max: 2000 }),
      checkPermissions(permissions),
    ]);
    const role = toRole(rows[0]);
    events.roleCreated(emit, { role });
    return role;
  } catch (err) {
    mapUniqueViolation(err, checkedName);
  }
}

export async function updateRole(
  tx: Queryable,
  emit: Emit,
  id: string,
  changes: { name?: string; description?: string; permissions?: string[] },
): Promise<Role> {
  const current = await findRole(tx, id, 'id', true);
  if (current.built_in) throw failedPrecondition(`role "${current.name}" is built in and cannot be changed`);
  const name = changes.name === undefined ? current.name : checkText('name', changes.name, { required: true, max: 100 });
  const description =
    changes.description === undefined ? current.description : checkText('description', changes.description, { max: 2000 });
  const permissions = changes.permissions === undefined ? current.permissions : checkPermissions(changes.permissions);
  if (name === current.name && description === current.description && permissions.join() === current.permissions.join()) {
    return toRole(current);
  }
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

export async function deleteRole(tx: Queryable, emit: Emit, id: string): Promise<void> {
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

export async function listRoles(q: Queryable, query: string, page: PageRequest) {
  const p = new Params();
  const where = query.trim() === '' ? 'TRUE' : `name ILIKE ${p.add(containsPattern(query.trim()))}`;
  return pageOf(page, {
    items: (limit, offset) =>
      q.query<RoleRow>(`SELECT * FROM roles WHERE ${where} ORDER BY lower(name), id LIMIT ${limit} OFFSET ${offset}`, p.values),
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM roles WHERE ${where}`, p.values),
    map: toRole,
  });
}

type GrantRow = {
  user_id: string;
  role_id: string;
  role_name: string;
  organisation_id: string;
  permissions: string[];
};

function toGrant(row: GrantRow): RoleGrant {
  return {
    userId: row.user_id,
    roleId: row.role_id,
    roleName: row.role_name,
    organisationId: row.organisation_id,
    permissions: row.permissions,
  };
}

const GRANT_SELECT = `
  SELECT g.user_id, g.role_id, r.name AS role_name, g.organisation_id, r.permissions
  FROM role_grants g JOIN roles r ON r.id = g.role_id`;

/** U3: the same roles on the same scope organisation for every user; returns how many
 * grants are new. Users and organisation must be visible in the caller's scope. */
export async function grantRoles(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  userIds: string[],
  roleIds: string[],
  organisationId: string,
): Promise<number> {
  const users = await requireVisibleUsers(tx, scope, userIds, 'userIds');
  const roles = checkIds('roleIds', roleIds);
  if (roles.length === 0) throw invalidArgument('roleIds', 'roleIds is required');
  for (const [i, id] of roles.entries()) await findRole(tx, id, `roleIds[${i}]`);
  const organisation = await findOrganisation(tx, scope, { id: organisationId }, 'organisationId');
  const { rows } = await tx.query<{ user_id: string; role_id: string }>(
    `INSERT INTO role_grants (user_id, role_id, organisation_id)
     SELECT u, r, $3 FROM unnest($1::uuid[]) u CROSS JOIN unnest($2::uuid[]) r
     ON CONFLICT DO NOTHING RETURNING user_id, role_id`,
    [users, roles, organisation.id],
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
  scope: ResolvedScope,
  userId: string,
  roleId: string,
  organisationId: string,
): Promise<void> {
  const user = await findUser(tx, scope, { id: userId });
  const organisation = await findOrganisation(tx, scope, { id: organisationId }, 'organisationId');
  const { rows } = await tx.query<GrantRow>(`${GRANT_SELECT} WHERE g.user_id = $1 AND g.role_id = $2 AND g.organisation_id = $3`, [
    user.id,
    checkId('roleId', roleId),
    organisation.id,
  ]);
  if (rows.length === 0) throw notFound('this user has no such role on this organisation', 'roleId');
  await tx.query('DELETE FROM role_grants WHERE user_id = $1 AND role_id = $2 AND organisation_id = $3', [
    user.id,
    roleId,
    organisation.id,
  ]);
  events.roleRevoked(emit, { grant: toGrant(rows[0]) });
}

export async function listRoleGrants(q: Queryable, scope: ResolvedScope, userId: string): Promise<RoleGrant[]> {
  const user = await findUser(q, scope, { id: userId });
  return grantsOf(q, user.id);
}

export async function grantsOf(q: Queryable, userId: string): Promise<RoleGrant[]> {
  const { rows } = await q.query<GrantRow>(`${GRANT_SELECT} WHERE g.user_id = $1 ORDER BY lower(r.name), g.organisation_id`, [userId]);
  return rows.map(toGrant);
}
