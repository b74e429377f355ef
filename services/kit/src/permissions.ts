/** Each service declares the permissions of its own domain (identity keeps the registry
 * that roles are checked against); the kit only knows their shape and its own. */
export interface PermissionDeclaration {
  /** "<domain>:<verb>", e.g. "users:read". */
  name: string;
  description: string;
  /** Holds only through a grant on the root organisation (global objects). */
  rootOnly: boolean;
}

/** "*" in a role stands for every permission. */
export const ALL_PERMISSIONS = '*';

/** The root of the organisation tree, created by the identity service: a grant on the root
 * holds everywhere. */
export const ROOT_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001';

/** The operators' permission: the event plumbing every service has (ops.ts). */
export const OPS_PERMISSION = 'events:manage';

/** The kit's own permissions, declared by every service. */
export const KIT_PERMISSIONS: PermissionDeclaration[] = [
  { name: OPS_PERMISSION, description: 'see and replay the dead letters and unpublishable events of every service', rootOnly: true },
];
