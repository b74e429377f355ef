import { ALL_PERMISSIONS, invalidArgument, type PermissionDeclaration, type Queryable } from '@assistants/kit';
import type { Permission } from '@assistants/proto/gen/identity/v1/roles';

/** Identity's own permissions. Other services declare theirs when they start
 * (RegisterPermissions); roles may carry any registered one. */
export const IDENTITY_PERMISSIONS: PermissionDeclaration[] = [
  { name: 'users:read', description: 'see users and resolve user selections', rootOnly: false },
  { name: 'users:write', description: 'create, change and delete users, set passwords and audiences', rootOnly: false },
  {
    name: 'users:write-external',
    description: 'change users marked as managed by an external system (imports)',
    rootOnly: false,
  },
  { name: 'organisations:read', description: 'browse the organisation tree', rootOnly: false },
  { name: 'organisations:write', description: 'create, change and delete organisations', rootOnly: false },
  { name: 'audiences:write', description: 'create, change and delete audiences', rootOnly: true },
  { name: 'roles:write', description: 'create, change and delete roles', rootOnly: true },
  { name: 'roles:grant', description: 'give and take back roles, within the grant’s sub-tree', rootOnly: false },
  { name: 'lists:read', description: 'see lists and folders', rootOnly: false },
  { name: 'lists:write', description: 'create, change and delete lists and folders, change static list members', rootOnly: false },
];

const NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

/** Records the permissions a service declares (its own, replacing what it declared before). */
export async function registerPermissions(tx: Queryable, service: string, declarations: PermissionDeclaration[]): Promise<void> {
  if (!/^[a-z][a-z0-9-]*$/.test(service)) throw invalidArgument('service', 'service must be a lower-case name');
  declarations.forEach((d, i) => {
    if (!NAME.test(d.name)) throw invalidArgument(`permissions[${i}].name`, `"${d.name}" is not of the form <domain>:<verb>`);
  });
  await tx.query(
    `INSERT INTO permissions (name, description, service, root_only)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])
     ON CONFLICT (name) DO UPDATE SET description = excluded.description, service = excluded.service, root_only = excluded.root_only`,
    [
      declarations.map((d) => d.name),
      declarations.map((d) => d.description),
      declarations.map(() => service),
      declarations.map((d) => d.rootOnly),
    ],
  );
}

export async function listPermissions(q: Queryable): Promise<Permission[]> {
  const { rows } = await q.query<{ name: string; description: string; service: string; root_only: boolean }>(
    'SELECT name, description, service, root_only FROM permissions ORDER BY name',
  );
  return rows.map((r) => ({ name: r.name, description: r.description, service: r.service, rootOnly: r.root_only }));
}

/** A role's permissions: "*" or registered names, each once, sorted. */
export async function checkPermissions(q: Queryable, permissions: string[]): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>('SELECT name FROM permissions WHERE name = ANY($1)', [permissions]);
  const known = new Set([ALL_PERMISSIONS, ...rows.map((r) => r.name)]);
  permissions.forEach((permission, i) => {
    if (!known.has(permission)) {
      throw invalidArgument(`permissions[${i}]`, `unknown permission "${permission}" (GET /v1/permissions lists them)`);
    }
  });
  return [...new Set(permissions)].sort();
}
