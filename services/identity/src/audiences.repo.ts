import { checkId, checkIds, notFound, type Queryable } from '@assistants/kit';
import type { Audience } from '@assistants/proto/gen/identity/v1/audiences';

export type AudienceRow = {
  id: string;
  name: string;
  description: string;
  created_at: Date;
};

export function toAudience(row: AudienceRow): Audience {
  return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at.toISOString() };
}

export async function findAudience(q: Queryable, id: string, lock = false): Promise<AudienceRow> {
  const { rows } = await q.query<AudienceRow>(`SELECT * FROM audiences WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [checkId('id', id)]);
  if (rows.length === 0) throw notFound(`no audience with id ${id}`, 'id');
  return rows[0];
}

/** The audiences of these ids; NOT_FOUND naming the unknown ones. */
export async function requireAudiences(q: Queryable, audienceIds: string[], field: string): Promise<string[]> {
  const ids = checkIds(field, audienceIds);
  const { rows } = await q.query<{ id: string }>('SELECT id FROM audiences WHERE id = ANY($1)', [ids]);
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw notFound(`no audience with id ${ids.filter((id) => !found.has(id)).join(', ')}`, field);
  }
  return ids;
}
