import { identityAuthority, type IdentityClient } from '@assistants/identity/client';
import { ALL_PERMISSIONS, isId, permissionDenied, ROOT_ORGANISATION_ID, unauthenticated } from '@assistants/kit';

/** Refuses unless the acting user holds `permission`: on the root organisation when `root`
 * (global objects: templates, the mail queue), anywhere otherwise. */
export async function requirePermission(identity: IdentityClient, actorId: string, permission: string, root: boolean): Promise<void> {
  if (!actorId) throw unauthenticated('this call needs an acting user');
  const { grants } = await identityAuthority(identity).principal(actorId);
  const held = grants.some(
    (g) =>
      (!root || g.organisationId === ROOT_ORGANISATION_ID) &&
      (g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS)),
  );
  if (!held) throw permissionDenied(`this needs the permission ${permission}${root ? ' on the root organisation' : ''}`);
}

/** The calling user, whose own notifications and agenda a call reads. */
export function requireActor(actorId: string): string {
  if (!isId(actorId)) throw unauthenticated('this call needs an acting user');
  return actorId.toLowerCase();
}
