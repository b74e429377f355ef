import { checkId, DomainError, type Emit, invalidArgument, itemResult, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { DeleteMergedUserRequest, MergeUserMembershipsRequest } from '@assistants/proto/gen/identity/v1/user_actions';
import type { Caller } from './caller';
import { events } from './events';
import { deleteUser, findTarget } from './users';

/*
 * Identity's steps of the user merge (M1), each a batch applied once per idempotency key
 * (grpc.ts): the static list memberships of the user to delete (Z) move to the user to keep
 * (A), then Z is deleted. The gateway's merge saga calls them in that order, after the other
 * services' steps.
 */

type Pair = { fromUserId: string; toUserId: string };

/** The error of a check on one user, named as the merge's field. */
async function asField<T>(field: string, check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    if (err instanceof DomainError) throw new DomainError(err.code, err.message, field);
    throw err;
  }
}

/** Both users of a merge, locked: each one the caller may change (users:write on its
 * organisation, no grant beyond the caller's own, not externally managed unless allowed). */
async function mergedUsers(tx: Queryable, caller: Caller, pair: Pair): Promise<{ from: string; to: string }> {
  const from = checkId('fromUserId', pair.fromUserId);
  const to = checkId('toUserId', pair.toUserId);
  if (from === to) throw invalidArgument('toUserId', 'the user to keep must not be the user to delete');
  // In id order, so that two merges of the same users never wait on each other in a cycle.
  for (const [id, field] of [
    [from, 'fromUserId'],
    [to, 'toUserId'],
  ].sort()) {
    await asField(field, findTarget(tx, caller, id));
  }
  return { from, to };
}

/** Z's static list memberships move to A; a list both are in keeps A with the earlier
 * entry date. One result per list. */
export async function mergeUserMemberships(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<MergeUserMembershipsRequest, 'batch'>,
): Promise<ItemResult[]> {
  const { from, to } = await mergedUsers(tx, caller, req);
  const { rows } = await tx.query<{ list_id: string; entered_at: Date; already: boolean }>(
    `SELECT m.list_id, m.entered_at, a.user_id IS NOT NULL AS already
     FROM list_members m JOIN lists l ON l.id = m.list_id AND l.type = 'static'
     LEFT JOIN list_members a ON a.list_id = m.list_id AND a.user_id = $2
     WHERE m.user_id = $1 ORDER BY m.list_id`,
    [from, to],
  );
  if (rows.length === 0) return [];
  const listIds = rows.map((r) => r.list_id);
  await tx.query(
    `INSERT INTO list_members (list_id, user_id, entered_at)
     SELECT list_id, $2, entered_at FROM list_members WHERE user_id = $1 AND list_id = ANY($3::uuid[])
     ON CONFLICT (list_id, user_id) DO UPDATE SET entered_at = least(list_members.entered_at, excluded.entered_at)`,
    [from, to, listIds],
  );
  const { rows: left } = await tx.query<{ at: Date }>(
    'WITH gone AS (DELETE FROM list_members WHERE user_id = $1 AND list_id = ANY($2::uuid[]) RETURNING 1) SELECT now() AS at',
    [from, listIds],
  );
  const leftAt = left[0].at.toISOString();
  return rows.map((r) => {
    events.listMemberLeft(emit, { listId: r.list_id, userId: from, listType: 'static', enteredAt: leftAt });
    if (r.already) {
      return itemResult.unchanged(
        r.list_id,
        '',
        'ALREADY_MEMBER',
        'the user to keep was in this list already (the earlier entry date kept)',
      );
    }
    events.listMemberEntered(emit, { listId: r.list_id, userId: to, listType: 'static', enteredAt: r.entered_at.toISOString() });
    return itemResult.succeeded(r.list_id, '', 'moved to the user to keep');
  });
}

/** The merge's last step: Z deleted, as DeleteUser does it. */
export async function deleteMergedUser(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<DeleteMergedUserRequest, 'batch'>,
): Promise<ItemResult[]> {
  const { from } = await mergedUsers(tx, caller, req);
  await deleteUser(tx, emit, caller, from);
  return [itemResult.succeeded(from, '', 'deleted')];
}
