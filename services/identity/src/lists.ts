import {
  alreadyExists,
  checkId,
  checkOneOf,
  checkText,
  containsPattern,
  type Emit,
  failedPrecondition,
  invalidArgument,
  isId,
  notFound,
  Params,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import type { ListFilter, ListFolder, UserList } from '@assistants/proto/gen/identity/v1/lists';
import { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import type { Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { findList, listSelect, toList, type ListRow } from './lists.repo';
import { findOrganisation, type OrganisationRow } from './organisations.repo';
import { decodeCursor, encodeCursor, pageOf, type PageRequest } from './paging';
import { ResolvedScope } from './scope';
import { checkUserFilter } from './user-filter';
import { requireVisibleUsers } from './users.repo';
import { LIST_TYPES, MATCH_MODES } from './validation';

/** The folder every list goes to unless told otherwise, created by the first migration. */
export const DEFAULT_FOLDER_ID = '00000000-0000-4000-8000-000000000003';

export async function createListFolder(tx: Queryable, emit: Emit, caller: Caller, name: string, parentId: string): Promise<ListFolder> {
  caller.scope('lists:write');
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

export async function listListFolders(q: Queryable, caller: Caller): Promise<ListFolder[]> {
  caller.scope('lists:read');
  const { rows } = await q.query<{ id: string; name: string; parent_id: string | null }>(
    'SELECT id, name, parent_id FROM list_folders ORDER BY lower(name), id',
  );
  return rows.map((r) => ({ id: r.id, name: r.name, parentId: r.parent_id ?? '' }));
}

export async function requireFolder(q: Queryable, folderId: string): Promise<string> {
  const id = folderId === '' ? DEFAULT_FOLDER_ID : checkId('folderId', folderId);
  const { rows } = await q.query('SELECT 1 FROM list_folders WHERE id = $1', [id]);
  if (rows.length === 0) throw notFound(`no list folder with id ${id}`, 'folderId');
  return id;
}

/** The organisation a new list belongs to: the one given (in the scope), or the only
 * organisation of the caller's scope (the root for an administrator of everything). */
export async function requireOwner(q: Queryable, scope: ResolvedScope, ownerId: string): Promise<OrganisationRow> {
  if (ownerId !== '') return findOrganisation(q, scope, { id: ownerId }, 'ownerOrganisationId');
  if (!scope.all && scope.paths.length > 1) {
    throw invalidArgument('ownerOrganisationId', 'ownerOrganisationId is required: your scope holds several organisations');
  }
  const { rows } = await q.query<{ id: string }>(
    scope.all ? 'SELECT id FROM organisations WHERE parent_id IS NULL' : 'SELECT id FROM organisations WHERE path = $1',
    scope.all ? [] : [scope.paths[0]],
  );
  return findOrganisation(q, scope, { id: rows[0].id }, 'ownerOrganisationId');
}

/** A dynamic list's criteria: a valid filter, naming only an organisation the caller sees. */
async function checkCriteria(tx: Queryable, scope: ResolvedScope, criteria: UserFilter | undefined): Promise<UserFilter> {
  const checked = checkUserFilter(criteria, 'criteria');
  if (checked.organisationId !== '') await findOrganisation(tx, scope, { id: checked.organisationId }, 'criteria.organisationId');
  return checked;
}

/** Users the caller sees, who also belong to the owner's sub-tree (a list's members do). */
async function requireMembersOf(q: Queryable, scope: ResolvedScope, ownerPath: string, userIds: string[], field: string) {
  const ids = await requireVisibleUsers(q, scope, userIds, field);
  const p = new Params();
  const { rows } = await q.query<{ login: string }>(
    `SELECT u.login FROM users u WHERE u.id = ANY(${p.add(ids)}) AND NOT (${ResolvedScope.of([ownerPath]).userCondition(p, 'u')}) LIMIT 5`,
    p.values,
  );
  if (rows.length > 0) {
    throw invalidArgument(
      field,
      `${rows.map((r) => `"${r.login}"`).join(', ')} outside the sub-tree of the organisation that owns the list: a list's members belong to it`,
    );
  }
  return ids;
}

function mapUniqueViolation(err: unknown, name: unknown): never {
  if (uniqueViolation(err) === 'lists_name_key') throw alreadyExists(`a list named "${name}" already exists`, 'name');
  throw err;
}

/** The list as events carry it: every member counted. */
export async function listForEvents(tx: Queryable, id: string): Promise<UserList> {
  return toList(await findList(tx, ResolvedScope.everything, id));
}

export interface NewList {
  name: string;
  description: string;
  type: string;
  folderId: string;
  criteria?: UserFilter;
  memberIds: string[];
  ownerOrganisationId: string;
}

export async function createList(tx: Queryable, emit: Emit, caller: Caller, input: NewList): Promise<UserList> {
  const scope = caller.scope('lists:write');
  const name = checkText('name', input.name, { required: true, max: 200 });
  const description = checkText('description', input.description, { max: 2000 });
  const type = checkOneOf('type', input.type, LIST_TYPES);
  const folderId = await requireFolder(tx, input.folderId);
  const owner = await requireOwner(tx, scope, input.ownerOrganisationId);
  let criteria: UserFilter | null = null;
  let members: string[] = [];
  if (type === 'dynamic') {
    criteria = await checkCriteria(tx, scope, input.criteria);
    if (input.memberIds.length > 0) throw invalidArgument('memberIds', 'a dynamic list has no explicit members: its criteria choose them');
  } else {
    if (input.criteria) throw invalidArgument('criteria', 'a static list has no criteria: give memberIds instead');
    members = await requireMembersOf(tx, scope, owner.path, input.memberIds, 'memberIds');
  }
  let id: string;
  try {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO lists (name, description, type, folder_id, criteria, owner_organisation_id)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [name, description, type, folderId, criteria ? UserFilter.toJSON(criteria) : null, owner.id],
    );
    id = rows[0].id;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
  events.listCreated(emit, { list: await listForEvents(tx, id) });
  if (type === 'dynamic') await refreshDynamicLists(tx, emit, { listIds: [id] });
  else await insertMembers(tx, emit, id, members);
  return toList(await findList(tx, scope, id));
}

export async function getList(q: Queryable, caller: Caller, id: string): Promise<UserList> {
  return toList(await findList(q, caller.scope('lists:read'), id));
}

export interface ListChanges {
  name?: string;
  description?: string;
  disabled?: boolean;
  folderId?: string;
  criteria?: UserFilter;
  ownerOrganisationId?: string;
}

export async function updateList(tx: Queryable, emit: Emit, caller: Caller, id: string, changes: ListChanges): Promise<UserList> {
  const scope = caller.scope('lists:write');
  const current = await findList(tx, scope, id, 'id', true);
  const values = new Map<string, unknown>();
  if (changes.name !== undefined) values.set('name', checkText('name', changes.name, { required: true, max: 200 }));
  if (changes.description !== undefined) values.set('description', checkText('description', changes.description, { max: 2000 }));
  if (changes.disabled !== undefined) values.set('disabled', changes.disabled);
  if (changes.folderId !== undefined) values.set('folder_id', await requireFolder(tx, changes.folderId));
  if (changes.criteria) {
    if (current.type !== 'dynamic') throw invalidArgument('criteria', 'only a dynamic list has criteria');
    values.set('criteria', UserFilter.toJSON(await checkCriteria(tx, scope, changes.criteria)));
  }
  let owner: OrganisationRow | undefined;
  if (changes.ownerOrganisationId !== undefined) {
    owner = await findOrganisation(tx, scope, { id: changes.ownerOrganisationId }, 'ownerOrganisationId');
    values.set('owner_organisation_id', owner.id);
  }
  for (const [column, value] of values) {
    const before = (current as Record<string, unknown>)[column];
    if (JSON.stringify(before ?? null) === JSON.stringify(value ?? null)) values.delete(column);
  }
  if (values.size === 0) return toList(current);
  if (owner && values.has('owner_organisation_id') && current.type === 'static') {
    const p = new Params();
    const { rows } = await tx.query<{ n: string }>(
      `SELECT count(*) AS n FROM list_members m JOIN users u ON u.id = m.user_id
       WHERE m.list_id = ${p.add(current.id)} AND NOT (${ResolvedScope.of([owner.path]).userCondition(p, 'u')})`,
      p.values,
    );
    if (Number(rows[0].n) > 0) {
      throw failedPrecondition(
        `${rows[0].n} member(s) lie outside the sub-tree of the new owner: remove them first`,
        'ownerOrganisationId',
      );
    }
  }
  const p = new Params();
  const assignments = [...values].map(([column, value]) => `${column} = ${p.add(value)}`);
  try {
    await tx.query(`UPDATE lists SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values.get('name'));
  }
  events.listUpdated(emit, { list: await listForEvents(tx, current.id) });
  if (current.type === 'dynamic' && (values.has('criteria') || values.has('owner_organisation_id'))) {
    await refreshDynamicLists(tx, emit, { listIds: [current.id] });
  }
  return toList(await findList(tx, scope, current.id));
}

export async function deleteList(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  const list = await findList(tx, caller.scope('lists:write'), id, 'id', true);
  const { rows } = await tx.query<{ user_id: string; at: Date }>(
    'DELETE FROM list_members WHERE list_id = $1 RETURNING user_id, now() AS at',
    [list.id],
  );
  await tx.query('DELETE FROM lists WHERE id = $1', [list.id]);
  for (const r of rows) {
    events.listMemberLeft(emit, { listId: list.id, userId: r.user_id, listType: list.type, enteredAt: r.at.toISOString() });
  }
  events.listDeleted(emit, { id: list.id, name: list.name });
}

/** Adds users to a static list; returns the ids that entered (the others were members). */
export async function insertMembers(tx: Queryable, emit: Emit, listId: string, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const { rows } = await tx.query<{ user_id: string; entered_at: Date }>(
    `INSERT INTO list_members (list_id, user_id) SELECT $1, unnest($2::uuid[])
     ON CONFLICT DO NOTHING RETURNING user_id, entered_at`,
    [listId, userIds],
  );
  for (const r of rows) {
    events.listMemberEntered(emit, { listId, userId: r.user_id, listType: 'static', enteredAt: r.entered_at.toISOString() });
  }
  return rows.map((r) => r.user_id);
}

async function requireStaticList(tx: Queryable, scope: ResolvedScope, listId: string): Promise<ListRow> {
  const list = await findList(tx, scope, listId, 'listId', true);
  if (list.type !== 'static') {
    throw failedPrecondition(`list "${list.name}" is dynamic: its criteria choose its members`, 'listId');
  }
  return list;
}

export async function addListMembers(tx: Queryable, emit: Emit, caller: Caller, listId: string, userIds: string[]): Promise<number> {
  const scope = caller.scope('lists:write');
  const list = await requireStaticList(tx, scope, listId);
  const added = await insertMembers(tx, emit, list.id, await requireMembersOf(tx, scope, list.owner_path, userIds, 'userIds'));
  if (added.length > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = $1', [list.id]);
  return added.length;
}

export async function removeListMembers(tx: Queryable, emit: Emit, caller: Caller, listId: string, userIds: string[]): Promise<number> {
  const scope = caller.scope('lists:write');
  const list = await requireStaticList(tx, scope, listId);
  const users = await requireVisibleUsers(tx, scope, userIds, 'userIds');
  const { rows } = await tx.query<{ user_id: string; at: Date }>(
    'DELETE FROM list_members WHERE list_id = $1 AND user_id = ANY($2) RETURNING user_id, now() AS at',
    [list.id, users],
  );
  for (const r of rows) {
    events.listMemberLeft(emit, { listId: list.id, userId: r.user_id, listType: 'static', enteredAt: r.at.toISOString() });
  }
  if (rows.length > 0) await tx.query('UPDATE lists SET updated_at = now() WHERE id = $1', [list.id]);
  return rows.length;
}

/** SEL-2: name, description and type combine with ALL or ANY; disabled lists are left out
 * unless asked for; a folder restricts on top. Only lists owned inside the scope. */
export async function searchLists(q: Queryable, caller: Caller, filter: ListFilter | undefined, page: PageRequest) {
  const scope = caller.scope('lists:read');
  const f = filter ?? { name: '', description: '', type: '', match: '', includeDisabled: false, folderId: '' };
  checkOneOf('filter.match', f.match, MATCH_MODES);
  if (f.type !== '') checkOneOf('filter.type', f.type, LIST_TYPES);
  const where = (p: Params) => {
    const criteria: string[] = [];
    if (f.name.trim() !== '') criteria.push(`l.name ILIKE ${p.add(containsPattern(f.name.trim()))}`);
    if (f.description.trim() !== '') criteria.push(`l.description ILIKE ${p.add(containsPattern(f.description.trim()))}`);
    if (f.type !== '') criteria.push(`l.type = ${p.add(f.type)}`);
    const conditions = criteria.length > 0 ? [`(${criteria.join(f.match === 'any' ? ' OR ' : ' AND ')})`] : [];
    if (!f.includeDisabled) conditions.push('NOT l.disabled');
    if (f.folderId !== '') conditions.push(`l.folder_id = ${p.add(checkId('filter.folderId', f.folderId))}`);
    conditions.push(scope.pathCondition(p, 'owner.path'));
    return conditions.join(' AND ');
  };
  return pageOf(page, {
    items: (limit, offset) => {
      const p = new Params();
      const select = listSelect(p, scope);
      return q.query<ListRow>(`${select} WHERE ${where(p)} ORDER BY lower(l.name), l.id LIMIT ${limit} OFFSET ${offset}`, p.values);
    },
    count: () => {
      const p = new Params();
      return q.query<{ n: string }>(
        `SELECT count(*) AS n FROM lists l JOIN organisations owner ON owner.id = l.owner_organisation_id WHERE ${where(p)}`,
        p.values,
      );
    },
    map: toList,
  });
}

/** Members per page of ListListMembers: small rows, read by services walking a whole list. */
const DEFAULT_MEMBER_PAGE = 500;
const MAX_MEMBER_PAGE = 5_000;

/** The members of a list with when each entered it, by user id (keyset paging), seen as
 * ResolveUserSelection sees a list: a list owned in the users:read scope, its members within
 * that scope. */
export async function listListMembers(q: Queryable, caller: Caller, listId: string, page: PageRequest) {
  const scope = caller.scope('users:read');
  const list = await findList(q, scope, listId, 'listId');
  const limit = page?.limit || DEFAULT_MEMBER_PAGE;
  if (limit > MAX_MEMBER_PAGE) throw invalidArgument('page.limit', `page.limit must be at most ${MAX_MEMBER_PAGE}`);
  if (page?.offset) throw invalidArgument('page.offset', 'members are paged with page.after (next_cursor), not an offset');
  let after: string | undefined;
  if (page?.after) {
    const key = decodeCursor(page.after);
    if (!key || key.length !== 1 || !isId(key[0]))
      throw invalidArgument('page.after', 'page.after must be the next_cursor of a previous page');
    after = key[0];
  }
  const p = new Params();
  const where = `m.list_id = ${p.add(list.id)} AND ${scope.all ? 'TRUE' : `m.user_id IN (SELECT u.id FROM users u WHERE ${scope.userCondition(p, 'u')})`}`;
  const pp = p.copy();
  const [items, count] = await Promise.all([
    q.query<{ user_id: string; entered_at: Date }>(
      `SELECT m.user_id, m.entered_at FROM list_members m
       WHERE ${where}${after ? ` AND m.user_id > ${pp.add(after)}` : ''} ORDER BY m.user_id LIMIT ${limit + 1}`,
      pp.values,
    ),
    q.query<{ n: string }>(`SELECT count(*) AS n FROM list_members m WHERE ${where}`, p.values),
  ]);
  const rows = items.rows.slice(0, limit);
  return {
    members: rows.map((r) => ({ userId: r.user_id, enteredAt: r.entered_at.toISOString() })),
    nextCursor: items.rows.length > limit ? encodeCursor([rows[rows.length - 1].user_id]) : '',
    total: Number(count.rows[0].n),
  };
}
