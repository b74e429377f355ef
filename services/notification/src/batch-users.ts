import type { IdentityClient } from '@assistants/identity/client';
import { isId, itemResult } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** identity's GetUsersForAction takes at most this many ids per call. */
const USERS_PER_CALL = 5_000;

/** The items of a batch (the selection, frozen by the run): each once, in order. An item
 * that is not an id is not refused here: it gets its own NOT_FOUND result. */
export function batchUserIds(values: string[]): string[] {
  return [...new Set(values.map((v) => (isId(v) ? v.toLowerCase() : v)))];
}

/** The users of a batch, by id: whether each exists and whether the acting user holds
 * `permission` on its organisation. Asked once per batch (and even for no users, so that a
 * run's validation checks the permission: PERMISSION_DENIED when it is held nowhere). */
export async function batchUsers(identity: IdentityClient, userIds: string[], permission: string): Promise<Map<string, UserForAction>> {
  const byId = new Map<string, UserForAction>();
  for (let i = 0; i === 0 || i < userIds.length; i += USERS_PER_CALL) {
    const { users } = await identity.users.getUsersForAction({ userIds: userIds.slice(i, i + USERS_PER_CALL), permission });
    for (const user of users) byId.set(user.id.toLowerCase(), user);
  }
  return byId;
}

/** Splits the batch's users into those the acting user may act on and the FAILED results
 * of the others (NOT_FOUND, OUT_OF_SCOPE), keyed by user id. */
export function partitionUsers(
  userIds: string[],
  users: Map<string, UserForAction>,
  permission: string,
): { accepted: string[]; refused: Map<string, ItemResult> } {
  const accepted: string[] = [];
  const refused = new Map<string, ItemResult>();
  for (const id of userIds) {
    const user = users.get(id);
    if (!user?.found) refused.set(id, itemResult.failed(id, '', 'NOT_FOUND', 'no such user'));
    else if (!user.inScope) {
      refused.set(id, itemResult.failed(id, '', 'OUT_OF_SCOPE', `you do not hold ${permission} on this user's organisation`));
    } else accepted.push(id);
  }
  return { accepted, refused };
}
