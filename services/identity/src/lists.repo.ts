import { checkId, notFound, Params, type Queryable } from '@assistants/kit';
import type { UserList } from '@assistants/proto/gen/identity/v1/lists';
import { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import type { ResolvedScope } from './scope';

export type ListRow = {
  id: string;
  name: string;
  description: string;
  type: string;
  disabled: boolean;
  folder_id: string;
  criteria: unknown;
  owner_organisation_id: string;
  owner_path: string;
  member_count: string;
  created_at: Date;
  updated_at: Date;
};

/** Lists with their owner's path and their members counted within `counted` (the caller
 * sees how many of its own users a list holds, not how many others). */
export function listSelect(p: Params, counted: ResolvedScope): string {
  const members = counted.all
    ? 'SELECT count(*) FROM list_members m WHERE m.list_id = l.id'
    : `SELECT count(*) FROM list_members m JOIN users u ON u.id = m.user_id WHERE m.list_id = l.id AND ${counted.userCondition(p, 'u')}`;
  return `SELECT l.*, owner.path AS owner_path, (${members}) AS member_count
          FROM lists l JOIN organisations owner ON owner.id = l.owner_organisation_id`;
}

export function toList(row: ListRow): UserList {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    disabled: row.disabled,
    folderId: row.folder_id,
    criteria: row.criteria ? UserFilter.fromJSON(row.criteria) : undefined,
    memberCount: Number(row.member_count),
    ownerOrganisationId: row.owner_organisation_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A list owned inside the scope (members counted within it); NOT_FOUND otherwise. */
export async function findList(q: Queryable, scope: ResolvedScope, id: string, field = 'id', lock = false): Promise<ListRow> {
  const p = new Params();
  const listId = p.add(checkId(field, id));
  const { rows } = await q.query<ListRow>(
    `${listSelect(p, scope)} WHERE l.id = ${listId} AND ${scope.pathCondition(p, 'owner.path')}${lock ? ' FOR UPDATE OF l' : ''}`,
    p.values,
  );
  if (rows.length === 0) throw notFound(`no list with id ${id}`, field);
  return rows[0];
}
