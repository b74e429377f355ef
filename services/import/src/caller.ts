import { identityAuthority, type IdentityClient } from '@assistants/identity/client';
import { ALL_PERMISSIONS, isId, permissionDenied, unauthenticated } from '@assistants/kit';
import { PERMISSIONS } from './permissions';

/** The acting user of a call, who must hold imports:run somewhere (each row is then decided
 * by the owning service, for that user). */
export async function requireImporter(identity: IdentityClient, actorId: string): Promise<string> {
  if (!isId(actorId)) throw unauthenticated('this call needs an acting user');
  const { grants } = await identityAuthority(identity).principal(actorId);
  if (!grants.some((g) => g.permissions.includes(PERMISSIONS.run) || g.permissions.includes(ALL_PERMISSIONS))) {
    throw permissionDenied(`this needs the permission ${PERMISSIONS.run}`);
  }
  return actorId.toLowerCase();
}
