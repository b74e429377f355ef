import { Params } from '@assistants/kit';
import type { Emit, Queryable } from '@assistants/kit';
import { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { events } from './events';
import { ResolvedScope } from './scope';
import { userFilterCondition } from './user-filter';

/** Keeps the members of dynamic lists equal to the users of the owner's sub-tree that their
 * criteria match, for the given users (after a change to them) or for every user (after a
 * change to the lists), and emits an event for each user entering or leaving. */
export async function refreshDynamicLists(tx: Queryable, emit: Emit, target: { userIds: string[] } | { listIds: string[] }): Promise<void> {
  if ('userIds' in target && target.userIds.length === 0) return;
  const { rows: lists } = await tx.query<{ id: string; criteria: unknown; owner_path: string }>(
    `SELECT l.id, l.criteria, owner.path AS owner_path
     FROM lists l JOIN organisations owner ON owner.id = l.owner_organisation_id
     WHERE l.type = 'dynamic'${'listIds' in target ? ' AND l.id = ANY($1)' : ''}`,
    'listIds' in target ? [target.listIds] : [],
  );
  for (const list of lists) {
    const p = new Params();
    const listId = p.add(list.id);
    const criteria = userFilterCondition(UserFilter.fromJSON(list.criteria), p, 'u');
    const owner = ResolvedScope.of([list.owner_path]).userCondition(p, 'u');
    const users = 'userIds' in target ? p.add(target.userIds) : undefined;
    const { rows } = await tx.query<{ change: 'entered' | 'left'; user_id: string; at: Date }>(
      `WITH matching AS (
         SELECT u.id FROM users u WHERE ${criteria} AND ${owner}${users ? ` AND u.id = ANY(${users})` : ''}
       ), entered AS (
         INSERT INTO list_members (list_id, user_id) SELECT ${listId}, id FROM matching
         ON CONFLICT DO NOTHING RETURNING user_id, entered_at
       ), gone AS (
         DELETE FROM list_members m WHERE m.list_id = ${listId}${users ? ` AND m.user_id = ANY(${users})` : ''}
           AND NOT EXISTS (SELECT 1 FROM matching WHERE matching.id = m.user_id)
         RETURNING m.user_id
       )
       SELECT 'entered' AS change, user_id, entered_at AS at FROM entered UNION ALL SELECT 'left', user_id, now() FROM gone`,
      p.values,
    );
    for (const r of rows) {
      const membership = { listId: list.id, userId: r.user_id, listType: 'dynamic', enteredAt: r.at.toISOString() };
      if (r.change === 'entered') events.listMemberEntered(emit, membership);
      else events.listMemberLeft(emit, membership);
    }
  }
}
