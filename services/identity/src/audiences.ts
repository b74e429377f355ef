import { alreadyExists, checkIds, checkText, containsPattern, type Emit, Params, type Queryable, uniqueViolation } from '@assistants/kit';
import type { Audience } from '@assistants/proto/gen/identity/v1/audiences';
import { findAudience, toAudience, type AudienceRow } from './audiences.repo';
import type { Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { pageOf, type PageRequest } from './paging';
import { emitAudiencesChanged } from './users';

function mapUniqueViolation(err: unknown, name: unknown): never {
  if (uniqueViolation(err) === 'audiences_name_key') throw alreadyExists(`an audience named "${name}" already exists`, 'name');
  throw err;
}

export async function createAudience(tx: Queryable, emit: Emit, caller: Caller, name: string, description: string): Promise<Audience> {
  caller.requireRoot('audiences:write');
  const checkedName = checkText('name', name, { required: true, max: 100 });
  try {
    const { rows } = await tx.query<AudienceRow>('INSERT INTO audiences (name, description) VALUES ($1, $2) RETURNING *', [
      checkedName,
      checkText('description', description, { max: 2000 }),
    ]);
    const audience = toAudience(rows[0]);
    events.audienceCreated(emit, { audience });
    return audience;
  } catch (err) {
    mapUniqueViolation(err, checkedName);
  }
}

export async function updateAudience(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  id: string,
  changes: { name?: string; description?: string },
) {
  caller.requireRoot('audiences:write');
  const current = await findAudience(tx, id, true);
  const name = changes.name === undefined ? current.name : checkText('name', changes.name, { required: true, max: 100 });
  const description =
    changes.description === undefined ? current.description : checkText('description', changes.description, { max: 2000 });
  if (name === current.name && description === current.description) return toAudience(current);
  let row: AudienceRow;
  try {
    ({
      rows: [row],
    } = await tx.query<AudienceRow>('UPDATE audiences SET name = $2, description = $3 WHERE id = $1 RETURNING *', [
      current.id,
      name,
      description,
    ]));
  } catch (err) {
    mapUniqueViolation(err, name);
  }
  if (name !== current.name) {
    // Dynamic lists filter on audience names.
    const { rows } = await tx.query<{ user_id: string }>('SELECT user_id FROM user_audiences WHERE audience_id = $1', [current.id]);
    await refreshDynamicLists(tx, emit, { userIds: rows.map((r) => r.user_id) });
  }
  const audience = toAudience(row);
  events.audienceUpdated(emit, { audience });
  return audience;
}

export async function deleteAudience(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireRoot('audiences:write');
  const audience = await findAudience(tx, id, true);
  const { rows } = await tx.query<{ user_id: string }>('DELETE FROM user_audiences WHERE audience_id = $1 RETURNING user_id', [
    audience.id,
  ]);
  await tx.query('DELETE FROM audiences WHERE id = $1', [audience.id]);
  events.audienceDeleted(emit, { id: audience.id, name: audience.name });
  await emitAudiencesChanged(
    tx,
    emit,
    rows.map((r) => r.user_id),
  );
}

/** Audiences are shared by the whole tree: any acting user may list them (filters name them). */
export async function listAudiences(q: Queryable, query: string, ids: string[], page: PageRequest) {
  const p = new Params();
  const conditions: string[] = [];
  if (query.trim() !== '') conditions.push(`name ILIKE ${p.add(containsPattern(query.trim()))}`);
  if (ids.length > 0) conditions.push(`id = ANY(${p.add(checkIds('ids', ids))})`);
  const where = conditions.length > 0 ? conditions.join(' AND ') : 'TRUE';
  return pageOf(page, {
    items: (limit, offset) =>
      q.query<AudienceRow>(`SELECT * FROM audiences WHERE ${where} ORDER BY lower(name), id LIMIT ${limit} OFFSET ${offset}`, p.values),
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM audiences WHERE ${where}`, p.values),
    map: toAudience,
  });
}
