import { checkText, type Emit, failedPrecondition, invalidArgument, type Queryable, uniqueViolation } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { SaveUsersAsListRequest } from '@assistants/proto/gen/identity/v1/user_actions';
import type { Caller } from './caller';
import { events } from './events';
import { insertMembers, listForEvents, requireFolder, requireOwner } from './lists';
import { findList } from './lists.repo';
import { asParameter, UserBatch } from './user-batch';

const nameTaken = (name: string) => invalidArgument('name', `a list named "${name}" already exists`);

/**
 * U18 Save the selection as a list (always static). The batches of one run share a list_key:
 * the first batch applied creates the list, each batch adds its users. Batches of one key
 * take turns (a transaction-scoped advisory lock), so that two first batches at once still
 * make one list. A dry run goes the same way and is rolled back.
 */
export async function saveUsersAsList(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<SaveUsersAsListRequest, 'batch'>,
  dryRun: boolean,
): Promise<{ results: ItemResult[]; listId: string }> {
  const scope = caller.scope('lists:write');
  const name = checkText('name', req.name, { required: true, max: 200 });
  const description = checkText('description', req.description, { max: 2000 });
  const listKey = checkText('listKey', req.listKey, { required: !dryRun, max: 200 });
  const folderId = await asParameter(requireFolder(tx, req.folderId));
  if (listKey !== '') await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`identity.save-users-as-list:${listKey}`]);

  const { rows: keyed } =
    listKey === '' ? { rows: [] } : await tx.query<{ id: string }>('SELECT id FROM lists WHERE list_key = $1', [listKey]);
  let listId = keyed[0]?.id ?? '';
  let ownerPath: string;
  if (listId !== '') {
    // An earlier batch of the run made it: this batch adds to it.
    const list = await findList(tx, scope, listId, 'listKey', true);
    if (list.type !== 'static') throw failedPrecondition(`list "${list.name}" is not static`, 'listKey');
    ownerPath = list.owner_path;
  } else {
    const { rows: named } = await tx.query('SELECT 1 FROM lists WHERE lower(name) = lower($1)', [name]);
    if (named.length > 0) throw nameTaken(name);
    const owner = await asParameter(requireOwner(tx, scope, req.ownerOrganisationId));
    ownerPath = owner.path;
    try {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO lists (name, description, type, folder_id, owner_organisation_id, list_key)
         VALUES ($1, $2, 'static', $3, $4, $5) RETURNING id`,
        [name, description, folderId, owner.id, listKey || null],
      );
      listId = rows[0].id;
    } catch (err) {
      if (uniqueViolation(err) === 'lists_name_key') throw nameTaken(name);
      throw err;
    }
    events.listCreated(emit, { list: await listForEvents(tx, listId) });
  }

  const batch = await UserBatch.load(tx, caller, scope, req.userIds);
  for (const user of batch.open) {
    if (!user.organisation_path.startsWith(ownerPath)) {
      batch.fail(
        user.id,
        'OUTSIDE_LIST_OWNER',
        "this user is outside the sub-tree of the organisation that owns the list: a list's members belong to it",
      );
    }
  }
  const entered = await insertMembers(
    tx,
    emit,
    listId,
    batch.open.map((u) => u.id),
  );
  for (const id of entered) batch.succeed(id);
  for (const user of batch.open) batch.unchanged(user.id, 'ALREADY_MEMBER', 'this user is already in the list');
  if (entered.length > 0 && keyed.length > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = $1', [listId]);
  // A dry run's list is rolled back with it.
  return { results: batch.results(), listId: dryRun ? '' : listId };
}

/** The list saved under a run's key ("" when none). */
export async function listOfKey(q: Queryable, listKey: string): Promise<string> {
  const { rows } = await q.query<{ id: string }>('SELECT id FROM lists WHERE list_key = $1', [listKey]);
  return rows[0]?.id ?? '';
}
