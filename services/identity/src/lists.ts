import { alreadyExists, failedPrecondition, invalidArgument, notFound, type Emit, type Queryable } from '@assistants/kit';
import type { ListFilter, ListFolder, UserList } from '@assistants/proto/gen/identity/v1/lists';
import { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { events } from './events';
import { pageOf, type PageRequest } from './paging';
import type { ResolvedScope } from './scope';
import { containsPattern, Params, uniqueViolation } from './sql';
import { findOrganisation } from './organisations';
import { checkUserFilter, userFilterCondition } from './user-filter';
import { requireVisibleUsers } from './users';
import { checkId, checkOneOf, checkText, LIST_TYPES, MATCH_MODES } from './validation';

/** The folder every list goes to unless told otherwise, created by the first migration. */
export const DEFAULT_FOLDER_ID = '00000000-0000-4000-8000-000000000003';

type ListRow = {
  id: string;
  name: string;
  description: string;
  type: string;
  disabled: boolean;
  folder_id: string;
  criteria: unknown;
  member_count: string;
  created_at: Date;
  updated_at: Date;
};

const LIST_SELECT = `
  SELECT l.*, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS member_count
  FROM lists l`;

function toList(row: ListRow): UserList {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    disabled: row.disabled,
    folderId: row.folder_id,
    criteria: row.criteria ? UserFilter.fromJSON(row.criteria) : undefined,
    memberCount: Number(row.member_count),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Keeps the members of dynamic lists equal to the users their criteria match, for the
 * given users (after a change to them) or for every user (after a change to the lists),
 * and emits an event for each user entering or leaving. */
export async function refreshDynamicLists(tx: Queryable, emit: Emit, target: { userIds: string[] } | { listIds: string[] }): Promise<void> {
  if ('userIds' in target && target.userIds.length === 0) return;
  const { rows: lists } = await tx.query<{ id: string; criteria: unknown }>(
    `SELECT id, criteria FROM lists WHERE type = 'dynamic'${'listIds' in target ? ' AND id = ANY($1)' : ''}`,
    'listIds' in target ? [target.listIds] : [],
  );
  for (const list of lists) {
    const p = new Params();
    const listId = p.add(list.id);
    const condition = userFilterCondition(UserFilter.fromJSON(list.criteria), p, 'u');
    const users = 'userIds' in target ? p.add(target.userIds) : undefined;
    const { rows } = await tx.query<{ change: 'entered' | 'left'; user_id: string }>(
      `WITH matching AS (
         SELECT u.id FROM users u WHERE ${condition}${users ? ` AND u.id = ANY(${users})` : ''}
       ), entered AS (
         INSERT INTO list_members (list_id, user_id) SELECT ${listId}, id FROM matching
         ON CONFLICT DO NOTHING RETURNING user_id
       ), gone AS (
         DELETE FROM list_members m WHERE m.list_id = ${listId}${users ? ` AND m.user_id = ANY(${users})` : ''}
           AND NOT EXISTS (SELECT 1 FROM matching WHERE matching.id = m.user_id)
         RETURNING m.user_id
       )
       SELECT 'entered' AS change, user_id FROM entered UNION ALL SELECT 'left', user_id FROM gone`,
      p.values,
    );
    for (const r of rows) {
      const membership = { listId: list.id, userId: r.user_id, listType: 'dynamic' };
      if (r.change === 'entered') events.listMemberEntered(emit, membership);
      else events.listMemberLeft(emit, membership);
    }
  }
}

export async function createListFolder(tx: Queryable, emit: Emit, name: string, parentId: string): Promise<ListFolder> {
  const checkedName = checkText('name', name, { required: true, max: 200 });
  const parent = parentId === '' ? null : checkId('parentId', parentId);
  if (parent) {
    const { rows } = await tx.query('SELECT 1 FROM list_folders WHERE id = $1', [parent]);
    if (rows.length === 0) throw notFound(`no list folder with id ${parent}`, 'parentId');
  }
  try {
    const { rows } = await tx.query<{ id: string }>('INSERT INTO list_folders (name, parent_id) VALUES ($1, $2) RETURNING id', [
      checkedName,
      parent,
    ]);
    const folder = { id: rows[0].id, name: checkedName, parentId: parent ?? '' };
    events.listFolderCreated(emit, { folder });
    return folder;
  } catch (err) {
    if (uniqueViolation(err) === 'list_folders_name_key') throw alreadyExists(`a folder "${checkedName}" already exists there`, 'name');
    throw err;
  }
}

export async function listListFolders(q: Queryable): Promise<ListFolder[]> {
  const { rows } = await q.query<{ id: string; name: string; parent_id: string | null }>(
    'SELECT id, name, parent_id FROM list_folders ORDER BY lower(name), id',
  );
  return rows.map((r) => ({ id: r.id, name: r.name, parentId: r.parent_id ?? '' }));
}

async function requireFolder(q: Queryable, folderId: string): Promise<string> {
  const id = folderId === '' ? DEFAULT_FOLDER_ID : checkId('folderId', folderId);
  const { rows } = await q.query('SELECT 1 FROM list_folders WHERE id = $1', [id]);
  if (rows.length === 0) throw notFound(`no list folder with id ${id}`, 'folderId');
  return id;
}

/** A dynamic list's criteria: a valid filter, naming only an organisation the caller sees. */
async function checkCriteria(tx: Queryable, scope: ResolvedScope, criteria: UserFilter | undefined): Promise<UserFilter> {
  const checked = checkUserFilter(criteria, 'criteria');
  if (checked.organisationId !== '') await findOrganisation(tx, scope, { id: checked.organisationId }, 'criteria.organisationId');
  return checked;
}

export async function findList(q: Queryable, id: string, field = 'id', lock = false): Promise<ListRow> {
  const { rows } = await q.query<ListRow>(`${LIST_SELECT} WHERE l.id = $1${lock ? ' FOR UPDATE OF l' : ''}`, [checkId(field, id)]);
  if (rows.length === 0) throw notFound(`no list with id ${id}`, field);
  return rows[0];
}

export async function getList(q: Queryable, id: string): Promise<UserList> {
  return toList(await findList(q, id));
}

function mapUniqueViolation(err: unknown, name: unknown): never {
  if (uniqueViolation(err) === 'lists_name_key') throw alreadyExists(`a list named "${name}" already exists`, 'name');
  throw err;
}

export interface NewList {
  name: string;
  description: string;
  type: string;
  folderId: string;
  criteria?: UserFilter;
  memberIds: string[];
}

export async function createList(tx: Queryable, emit: Emit, scope: ResolvedScope, input: NewList): Promise<UserList> {
  const name = checkText('name', input.name, { required: true, max: 200 });
  const description = checkText('description', input.description, { max: 2000 });
  const type = checkOneOf('type', input.type, LIST_TYPES);
  const folderId = await requireFolder(tx, input.folderId);
  let criteria: UserFilter | null = null;
  let members: string[] = [];
  if (type === 'dynamic') {
    criteria = await checkCriteria(tx, scope, input.criteria);
    if (input.memberIds.length > 0) throw invalidArgument('memberIds', 'a dynamic list has no explicit members: its criteria choose them');
  } else {
    if (input.criteria) throw invalidArgument('criteria', 'a static list has no criteria: give memberIds instead');
    members = await requireVisibleUsers(tx, scope, input.memberIds, 'memberIds');
  }
  let id: string;
  try {
    const { rows } = await tx.query<{ id: string }>(
      'INSERT INTO lists (name, description, type, folder_id, criteria) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [name, description, type, folderId, criteria ? UserFilter.toJSON(criteria) : null],
    );
    id = rows[0].id;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
  events.listCreated(emit, { list: toList(await findList(tx, id)) });
  if (type === 'dynamic') await refreshDynamicLists(tx, emit, { listIds: [id] });
  else await insertMembers(tx, emit, id, members);
  return getList(tx, id);
}

export interface ListChanges {
  name?: string;
  description?: string;
  disabled?: boolean;
  folderId?: string;
  criteria?: UserFilter;
}

export async function updateList(tx: Queryable, emit: Emit, scope: ResolvedScope, id: string, changes: ListChanges): Promise<UserList> {
  const current = await findList(tx, id, 'id', true);
  const values = new Map<string, unknown>();
  if (changes.name !== undefined) values.set('name', checkText('name', changes.name, { required: true, max: 200 }));
  if (changes.description !== undefined) values.set('description', checkText('description', changes.description, { max: 2000 }));
  if (changes.disabled !== undefined) values.set('disabled', changes.disabled);
  if (changes.folderId !== undefined) values.set('folder_id', await requireFolder(tx, changes.folderId));
  if (changes.criteria) {
    if (current.type !== 'dynamic') throw invalidArgument('criteria', 'only a dynamic list has criteria');
    values.set('criteria', UserFilter.toJSON(await checkCriteria(tx, scope, changes.criteria)));
  }
  for (const [column, value] of values) {
    const before = (current as Record<string, unknown>)[column];
    if (JSON.stringify(before ?? null) === JSON.stringify(value ?? null)) values.delete(column);
  }
  if (values.size === 0) return toList(current);
  const p = new Params();
  const assignments = [...values].map(([column, value]) => `${column} = ${p.add(value)}`);
  try {
    await tx.query(`UPDATE lists SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values.get('name'));
  }
  events.listUpdated(emit, { list: toList(await findList(tx, current.id)) });
  if (values.has('criteria')) await refreshDynamicLists(tx, emit, { listIds: [current.id] });
  return getList(tx, current.id);
}

export async function deleteList(tx: Queryable, emit: Emit, id: string): Promise<void> {
  const list = await findList(tx, id, 'id', true);
  const { rows } = await tx.query<{ user_id: string }>('DELETE FROM list_members WHERE list_id = $1 RETURNING user_id', [list.id]);
  await tx.query('DELETE FROM lists WHERE id = $1', [list.id]);
  for (const r of rows) events.listMemberLeft(emit, { listId: list.id, userId: r.user_id, listType: list.type });
  events.listDeleted(emit, { id: list.id, name: list.name });
}

async function insertMembers(tx: Queryable, emit: Emit, listId: string, userIds: string[]): Promise<number> {
  if (userIds.length === 0) return 0;
  const { rows } = await tx.query<{ user_id: string }>(
    `INSERT INTO list_members (list_id, user_id) SELECT $1, unnest($2::uuid[])
     ON CONFLICT DO NOTHING RETURNING user_id`,
    [listId, userIds],
  );
  for (const r of rows) events.listMemberEntered(emit, { listId, userId: r.user_id, listType: 'static' });
  return rows.length;
}

async function requireStaticList(tx: Queryable, listId: string): Promise<ListRow> {
  const list = await findList(tx, listId, 'listId', true);
  if (list.type !== 'static') {
    throw failedPrecondition(`list "${list.name}" is dynamic: its criteria choose its members`, 'listId');
  }
  return list;
}

export async function addListMembers(tx: Queryable, emit: Emit, scope: ResolvedScope, listId: string, userIds: string[]): Promise<number> {
  const list = await requireStaticList(tx, listId);
  const added = await insertMembers(tx, emit, list.id, await requireVisibleUsers(tx, scope, userIds, 'userIds'));
  if (added > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = $1', [list.id]);
  return added;
}

export async function removeListMembers(
  tx: Queryable,
  emit: Emit,
  scope: ResolvedScope,
  listId: string,
  userIds: string[],
): Promise<number> {
  const list = await requireStaticList(tx, listId);
  const users = await requireVisibleUsers(tx, scope, userIds, 'userIds');
  const { rows } = await tx.query<{ user_id: string }>(
    'DELETE FROM list_members WHERE list_id = $1 AND user_id = ANY($2) RETURNING user_id',
    [list.id, users],
  );
  for (const r of rows) events.listMemberLeft(emit, { listId: list.id, userId: r.user_id, listType: 'static' });
  if (rows.length > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = $1', [list.id]);
  return rows.length;
}

/** SEL-2: name, description and type combine with ALL or ANY; disabled lists are left out
 * unless asked for; a folder restricts on top. */
export async function searchLists(q: Queryable, filter: ListFilter | undefined, page: PageRequest) {
  const f = filter ?? { name: '', description: '', type: '', match: '', includeDisabled: false, folderId: '' };
  checkOneOf('filter.match', f.match, MATCH_MODES);
  if (f.type !== '') checkOneOf('filter.type', f.type, LIST_TYPES);
  const p = new Params();
  const criteria: string[] = [];
  if (f.name.trim() !== '') criteria.push(`l.name ILIKE ${p.add(containsPattern(f.name.trim()))}`);
  if (f.description.trim() !== '') criteria.push(`l.description ILIKE ${p.add(containsPattern(f.description.trim()))}`);
  if (f.type !== '') criteria.push(`l.type = ${p.add(f.type)}`);
  const conditions = criteria.length > 0 ? [`(${criteria.join(f.match === 'any' ? ' OR ' : ' AND ')})`] : [];
  if (!f.includeDisabled) conditions.push('NOT l.disabled');
  if (f.folderId !== '') conditions.push(`l.folder_id = ${p.add(checkId('filter.folderId', f.folderId))}`);
  const where = conditions.length > 0 ? conditions.join(' AND ') : 'TRUE';
  return pageOf(page, {
    items: (limit, offset) =>
      q.query<ListRow>(`${LIST_SELECT} WHERE ${where} ORDER BY lower(l.name), l.id LIMIT ${limit} OFFSET ${offset}`, p.values),
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM lists l WHERE ${where}`, p.values),
    map: toList,
  });
}
