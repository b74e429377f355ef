import { type Emit, isId, itemResult, Params, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';

/** The catalogue objects the course and curriculum assistants act on. */
export interface BatchTarget {
  table: 'courses' | 'curricula';
  /** "course", "curriculum": in result messages. */
  noun: string;
  /** Emits the `updated` event of each changed object, loaded after the change. */
  emitUpdated(tx: Queryable, emit: Emit, ids: string[]): Promise<void>;
}

/** How a batch changes each object: `set` is an SQL assignment list written with `p`, and
 * `differs` the condition under which an object is changed at all (when it is false, the
 * object already is as asked: UNCHANGED). */
export interface BatchChange {
  set: string;
  differs: string;
  p: Params;
  /** Outcome code of an object already as asked. */
  unchangedCode: string;
  unchangedMessage: string;
}

/**
 * Applies one change to a batch of objects, set-based: one statement locks the objects
 * found (in id order, so that concurrent batches do not deadlock), one changes those that
 * differ, one loads them for their events. One result per distinct item, in the order
 * given: SUCCEEDED, UNCHANGED (already so) or FAILED NOT_FOUND (no such object).
 */
export async function changeItems(
  tx: Queryable,
  emit: Emit,
  target: BatchTarget,
  itemIds: string[],
  change: BatchChange,
): Promise<ItemResult[]> {
  const items = [...new Set(itemIds)];
  const ids = [...new Set(items.filter(isId).map((id) => id.toLowerCase()))];
  const found = new Set<string>();
  const changed = new Set<string>();
  if (ids.length > 0) {
    const locked = await tx.query<{ id: string }>(`SELECT id FROM ${target.table} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [
      ids,
    ]);
    for (const r of locked.rows) found.add(r.id);
    if (found.size > 0) {
      const p = change.p.copy();
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE ${target.table} SET ${change.set}, updated_at = now()
          WHERE id = ANY(${p.add([...found])}::uuid[]) AND (${change.differs}) RETURNING id`,
        p.values,
      );
      for (const r of rows) changed.add(r.id);
      if (changed.size > 0) await target.emitUpdated(tx, emit, [...changed]);
    }
  }
  return items.map((item) => {
    const id = isId(item) ? item.toLowerCase() : '';
    if (!found.has(id)) return itemResult.failed(item, '', 'NOT_FOUND', `no ${target.noun} with id ${item}`);
    if (!changed.has(id)) return itemResult.unchanged(item, '', change.unchangedCode, change.unchangedMessage);
    return itemResult.succeeded(item);
  });
}

/** A change setting columns to values (absent ones left as they are): `set` and `differs`
 * for changeItems; undefined when no column is set. */
export function columnChange(values: Map<string, unknown>, casts: Record<string, string> = {}): BatchChange | undefined {
  if (values.size === 0) return undefined;
  const p = new Params();
  const pairs = [...values.entries()].map(([column, value]) => [column, `${p.add(value)}${casts[column] ?? ''}`] as const);
  return {
    p,
    set: pairs.map(([column, param]) => `${column} = ${param}`).join(', '),
    differs: pairs.map(([column, param]) => `${column} IS DISTINCT FROM ${param}`).join(' OR '),
    unchangedCode: 'ALREADY_SET',
    unchangedMessage: 'already has these values',
  };
}

/** A change adding audiences (sorted, each once) to those an object has. */
export function audiencesChange(audienceIds: string[]): BatchChange {
  const p = new Params();
  const ids = p.add(audienceIds);
  return {
    p,
    set: `audience_ids = ARRAY(SELECT DISTINCT a FROM unnest(audience_ids || ${ids}::uuid[]) a ORDER BY a)`,
    differs: `NOT (audience_ids @> ${ids}::uuid[])`,
    unchangedCode: 'ALREADY_HAS_AUDIENCES',
    unchangedMessage: 'already has every one of these audiences',
  };
}

/** When a batch changes nothing at all (every field "unchanged"): each object found is
 * UNCHANGED, each other NOT_FOUND. */
export const NO_CHANGE: BatchChange = {
  p: new Params(),
  set: 'id = id',
  differs: 'FALSE',
  unchangedCode: 'NOTHING_TO_CHANGE',
  unchangedMessage: 'every field was left unchanged',
};
