import { checkId, notFound, type Queryable } from '@assistants/kit';
import type { Role, RoleGrant } from '@assistants/proto/gen/identity/v1/roles';

export type RoleRow = {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  built_in: boolean;
};

export function toRole(row: RoleRow): Role {
  return { id: row.id, name: row.name, description: row.description, permissions: row.permissions, builtIn: row.built_in };
}

export async function findRole(q: Queryable, id: string, field = 'id', lock = false): Promise<RoleRow> {
  const { rows } = await q.query<RoleRow>(`SELECT * FROM roles WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [checkId(field, id)]);
  if (rows.length === 0) throw notFound(`no role with id ${id}`, field);
  return rows[0];
}

export type GrantRow = {
  user_id: string;
  role_id: string;
  role_name: string;
  organisation_id: string;
  permissions: string[];
};

export function toGrant(row: GrantRow): RoleGrant {
  return {
    userId: row.user_id,
    roleId: row.role_id,
    roleName: row.role_name,
    organisationId: row.organisation_id,
    permissions: row.permissions,
  };
}

export const GRANT_SELECT = `
  SELECT g.user_id, g.role_id, r.name AS role_name, g.organisation_id, r.permissions
  FROM role_grants g JOIN roles r ON r.id = g.role_id`;

export async function grantsOf(q: Queryable, userId: string): Promise<RoleGrant[]> {
  const { rows } = await q.query<GrantRow>(`${GRANT_SELECT} WHERE g.user_id = $1 ORDER BY lower(r.name), g.organisation_id`, [userId]);
  return rows.map(toGrant);
}
