import { type Emit, invalidArgument, itemResult, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { ImportListMembersRequest, ListMemberImportRow } from '@assistants/proto/gen/identity/v1/imports';
import type { Caller } from './caller';
import { events } from './events';
import { DEFAULT_FOLDER_ID, insertMembers, listForEvents, requireOwner } from './lists';
import type { ResolvedScope } from './scope';

/** I7 static lists (see ImportListMembers in proto/identity/v1/imports.proto). A chunk is
 * checked as a whole (its users, its lists, each in one query), the lists it names that do
 * not exist are created once, and its members go in with one statement per list: rows are
 * not tried one by one, as no row can fail once its user and its list are checked. */

const MAX_ROWS = 5_000;
const USER = 'USER';
const LIST = 'LISTE_NAME';

type ListFound = { id: string; name: string; type: string; owner_path: string };
type UserFound = { id: string; k: string; path: string };

/** The lists with these names (lower case), locked until the chunk commits. */
async function listsNamed(tx: Queryable, names: string[]): Promise<Map<string, ListFound>> {
  const { rows } = await tx.query<ListFound>(
    `SELECT l.id, l.name, l.type, o.path AS owner_path FROM lists l JOIN organisations o ON o.id = l.owner_organisation_id
      WHERE lower(l.name) = ANY($1) ORDER BY l.id FOR UPDATE OF l`,
    [names],
  );
  return new Map(rows.map((l) => [l.name.toLowerCase(), l]));
}

const SEVERAL_OWNERS =
  'create it first: a list an import creates belongs to the one organisation of your lists:write scope, and yours holds several';

/** The organisation that owns the lists an import creates: the one organisation of the
 * caller's lists:write scope (the root for an administrator of everything), as for a list
 * made by hand without an owner; none when the scope holds several. */
async function newListsOwner(tx: Queryable, scope: ResolvedScope): Promise<{ id: string } | undefined> {
  return !scope.all && scope.paths.length > 1 ? undefined : requireOwner(tx, scope, '');
}

export async function importListMembers(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportListMembersRequest, 'batch'>,
): Promise<ItemResult[]> {
  const scope = caller.scope('lists:write');
  if (req.rows.length > MAX_ROWS) throw invalidArgument('rows', `at most ${MAX_ROWS} rows per call`);
  if (!['', 'ext_id', 'login'].includes(req.matchOn)) throw invalidArgument('matchOn', 'match_on must be "ext_id" or "login"');
  const byLogin = req.matchOn === 'login';
  const userKey = (r: ListMemberImportRow) => r.user.trim().toLowerCase();
  const listKey = (r: ListMemberImportRow) => r.listName.trim().toLowerCase();

  const { rows: users } = await tx.query<UserFound>(
    `SELECT u.id, lower(u.${byLogin ? 'login' : 'ext_id'}) AS k, o.path FROM users u JOIN organisations o ON o.id = u.organisation_id
      WHERE lower(u.${byLogin ? 'login' : 'ext_id'}) = ANY($1)`,
    [[...new Set(req.rows.map(userKey))]],
  );
  const userOf = new Map(users.map((u) => [u.k, u]));

  const results = new Map<string, ItemResult>();
  const fail = (row: ListMemberImportRow, column: string, code: string, message: string) =>
    results.set(row.itemId, itemResult.failed(row.itemId, column, code, `${column}: ${message}`));

  // The user of each row, checked; the rows left wait for their list.
  const open: { row: ListMemberImportRow; user: UserFound }[] = [];
  for (const row of req.rows) {
    const user = userOf.get(userKey(row));
    if (userKey(row) === '') fail(row, USER, 'INVALID', 'is empty');
    else if (listKey(row) === '') fail(row, LIST, 'INVALID', 'is empty');
    else if (row.listName.trim().length > 200) fail(row, LIST, 'INVALID', 'is longer than 200 characters');
    else if (!user) fail(row, USER, 'NOT_FOUND', `no user with ${byLogin ? 'login' : 'external id'} "${row.user.trim()}"`);
    else if (!scope.includesPath(user.path)) fail(row, USER, 'OUT_OF_SCOPE', `user "${row.user.trim()}" is outside your scope`);
    else open.push({ row, user });
  }

  // The lists: those missing are created once, static, in the Default folder (only those a
  // row will put a user in).
  const names = [...new Set(open.map((o) => listKey(o.row)))];
  const lists = await listsNamed(tx, names);
  const missing = names.filter((n) => !lists.has(n));
  const owner = missing.length > 0 ? await newListsOwner(tx, scope) : undefined;
  if (owner) {
    const given = missing.map((n) => open.find((o) => listKey(o.row) === n)!.row.listName.trim());
    // A list another import creates at the same time is left to it (then found below).
    const { rows: created } = await tx.query<{ id: string }>(
      `INSERT INTO lists (name, type, folder_id, owner_organisation_id)
       SELECT unnest($1::text[]), 'static', $2, $3 ON CONFLICT ((lower(name))) DO NOTHING RETURNING id`,
      [given, DEFAULT_FOLDER_ID, owner.id],
    );
    for (const { id } of created) events.listCreated(emit, { list: await listForEvents(tx, id) });
    for (const [name, list] of await listsNamed(tx, missing)) lists.set(name, list);
  }

  const members = new Map<string, string[]>();
  for (const { row, user } of open) {
    const list = lists.get(listKey(row));
    const name = row.listName.trim();
    if (!list) {
      fail(row, LIST, 'NOT_FOUND', `no list named "${name}": ${owner ? 'it could not be created' : SEVERAL_OWNERS}`);
    } else if (!scope.includesPath(list.owner_path)) {
      fail(row, LIST, 'OUT_OF_SCOPE', `list "${list.name}" is outside your scope`);
    } else if (list.type !== 'static') {
      fail(row, LIST, 'INVALID', `list "${list.name}" is dynamic: its criteria choose its members`);
    } else if (!user.path.startsWith(list.owner_path)) {
      fail(
        row,
        USER,
        'OUTSIDE_LIST_OWNER',
        `user "${row.user.trim()}" is outside the sub-tree of the organisation that owns list "${list.name}": a list's members belong to it`,
      );
    } else members.set(list.id, [...(members.get(list.id) ?? []), user.id]);
  }

  const entered = new Set<string>();
  const changed: string[] = [];
  for (const [listId, userIds] of members) {
    const added = await insertMembers(tx, emit, listId, [...new Set(userIds)]);
    for (const userId of added) entered.add(`${listId}:${userId}`);
    if (added.length > 0) changed.push(listId);
  }
  if (changed.length > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = ANY($1)', [changed]);

  return req.rows.map((row) => {
    const decided = results.get(row.itemId);
    if (decided) return decided;
    const user = userOf.get(userKey(row))!;
    const list = lists.get(listKey(row))!;
    // A pair on two rows: the first one added it.
    if (entered.delete(`${list.id}:${user.id}`)) return { ...itemResult.succeeded(row.itemId), code: 'ADDED' };
    return itemResult.unchanged(row.itemId, '', 'UNCHANGED', `the user is already in list "${list.name}"`);
  });
}
