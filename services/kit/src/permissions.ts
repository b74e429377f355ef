/** Permissions a role can carry. A grant gives a role's permissions on the sub-tree of one
 * organisation; "*" stands for every permission. Later services add theirs here. */
export const PERMISSIONS = {
  'users:read': 'see users and resolve user selections',
  'users:write': 'create, change and delete users, set passwords and audiences',
  'users:write-external': 'change users marked as managed by an external system (imports)',
  'organisations:read': 'browse the organisation tree',
  'organisations:write': 'create, change and delete organisations',
  'audiences:write': 'create, change and delete audiences (needs a grant on the root)',
  'roles:write': 'create, change and delete roles (needs a grant on the root)',
  'roles:grant': 'give and take back roles, within the grant’s sub-tree',
  'lists:read': 'see lists and folders',
  'lists:write': 'create, change and delete lists and folders, change static list members',
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = '*';

export function isPermission(name: string): name is Permission {
  return name === ALL_PERMISSIONS || Object.prototype.hasOwnProperty.call(PERMISSIONS, name);
}

/** The root of the organisation tree, created by the identity service: a grant on the root
 * holds everywhere, and some permissions (audiences:write, roles:write) hold only there. */
export const ROOT_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001';
