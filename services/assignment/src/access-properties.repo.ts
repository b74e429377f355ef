import type { Queryable } from '@assistants/kit';
import { DatesMode, ObjectType, type AccessProperty } from '@assistants/proto/gen/assignment/v1/common';
import { optionToProto, type Option } from './values';

export type ObjectKind = 'course' | 'curriculum';

export type AccessPropertyRow = {
  id: string;
  object_type: ObjectKind;
  object_id: string;
  list_id: string;
  restrict_visibility: boolean;
  enrol: boolean;
  option: Option;
  dates_mode: 'none' | 'fixed' | 'relative';
  start_date: string | null;
  objective_date: string | null;
  end_date: string | null;
  start_delay_days: number | null;
  objective_delay_days: number | null;
  end_delay_days: number | null;
  effective_immediately: boolean;
  apply_option_to_courses: boolean;
  carry_dates_to_courses: boolean;
  created_by: string;
  members_read_at: Date;
  created_at: Date;
  updated_at: Date;
};

/** What an action sets on an access property. */
export interface AccessSettings {
  restrictVisibility: boolean;
  enrol: boolean;
  option: Option;
  datesMode: 'none' | 'fixed' | 'relative';
  startDate: string | null;
  objectiveDate: string | null;
  endDate: string | null;
  startDelayDays: number | null;
  objectiveDelayDays: number | null;
  endDelayDays: number | null;
  effectiveImmediately: boolean;
  applyOptionToCourses: boolean;
  carryDatesToCourses: boolean;
}

export const objectTypeToProto = (kind: ObjectKind): ObjectType =>
  kind === 'course' ? ObjectType.OBJECT_TYPE_COURSE : ObjectType.OBJECT_TYPE_CURRICULUM;

const DATES_MODES = { none: DatesMode.DATES_MODE_UNSPECIFIED, fixed: DatesMode.DATES_MODE_FIXED, relative: DatesMode.DATES_MODE_RELATIVE };

export function toAccessProperty(row: AccessPropertyRow): AccessProperty {
  return {
    id: row.id,
    objectType: objectTypeToProto(row.object_type),
    objectId: row.object_id,
    listId: row.list_id,
    restrictVisibility: row.restrict_visibility,
    enrol: row.enrol,
    enrolment: row.enrol
      ? {
          option: optionToProto(row.option),
          datesMode: DATES_MODES[row.dates_mode],
          startDate: row.start_date ?? '',
          objectiveDate: row.objective_date ?? '',
          endDate: row.end_date ?? '',
          startDelayDays: row.start_delay_days ?? undefined,
          objectiveDelayDays: row.objective_delay_days ?? undefined,
          endDelayDays: row.end_delay_days ?? undefined,
          effectiveImmediately: row.effective_immediately,
          applyOptionToCourses: row.apply_option_to_courses,
          carryDatesToCourses: row.carry_dates_to_courses,
        }
      : undefined,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Adds the access property of each (object, list), or, where one exists, adds to it: a
 * restriction is never lifted nor an enrolment stopped here (no action removes them), and
 * new enrolment settings replace the old ones (members_read_at stays: entries since then
 * were the consumer's). Returns each with whether it was created. */
export async function upsertAccessProperties(
  tx: Queryable,
  kind: ObjectKind,
  targets: { objectId: string; listId: string }[],
  settings: AccessSettings,
  createdBy: string,
  membersReadAt: Date,
): Promise<(AccessPropertyRow & { created: boolean })[]> {
  if (targets.length === 0) return [];
  const s = settings;
  const { rows } = await tx.query<AccessPropertyRow & { created: boolean }>(
    `INSERT INTO access_properties AS a (object_type, object_id, list_id, restrict_visibility, enrol, option, dates_mode,
            start_date, objective_date, end_date, start_delay_days, objective_delay_days, end_delay_days,
            effective_immediately, apply_option_to_courses, carry_dates_to_courses, created_by, members_read_at)
     SELECT $1, t.object_id, t.list_id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
       FROM unnest($2::uuid[], $3::uuid[]) AS t(object_id, list_id)
     ON CONFLICT (object_type, object_id, list_id) DO UPDATE SET
       restrict_visibility = a.restrict_visibility OR excluded.restrict_visibility,
       enrol = a.enrol OR excluded.enrol,
       option = CASE WHEN excluded.enrol THEN excluded.option ELSE a.option END,
       dates_mode = CASE WHEN excluded.enrol THEN excluded.dates_mode ELSE a.dates_mode END,
       start_date = CASE WHEN excluded.enrol THEN excluded.start_date ELSE a.start_date END,
       objective_date = CASE WHEN excluded.enrol THEN excluded.objective_date ELSE a.objective_date END,
       end_date = CASE WHEN excluded.enrol THEN excluded.end_date ELSE a.end_date END,
       start_delay_days = CASE WHEN excluded.enrol THEN excluded.start_delay_days ELSE a.start_delay_days END,
       objective_delay_days = CASE WHEN excluded.enrol THEN excluded.objective_delay_days ELSE a.objective_delay_days END,
       end_delay_days = CASE WHEN excluded.enrol THEN excluded.end_delay_days ELSE a.end_delay_days END,
       effective_immediately = CASE WHEN excluded.enrol THEN excluded.effective_immediately ELSE a.effective_immediately END,
       apply_option_to_courses = CASE WHEN excluded.enrol THEN excluded.apply_option_to_courses ELSE a.apply_option_to_courses END,
       carry_dates_to_courses = CASE WHEN excluded.enrol THEN excluded.carry_dates_to_courses ELSE a.carry_dates_to_courses END,
       created_by = excluded.created_by,
       updated_at = now()
     RETURNING a.*, (xmax = 0) AS created`,
    [
      kind,
      targets.map((t) => t.objectId),
      targets.map((t) => t.listId),
      s.restrictVisibility,
      s.enrol,
      s.option,
      s.datesMode,
      s.startDate,
      s.objectiveDate,
      s.endDate,
      s.startDelayDays,
      s.objectiveDelayDays,
      s.endDelayDays,
      s.effectiveImmediately,
      s.applyOptionToCourses,
      s.carryDatesToCourses,
      createdBy,
      membersReadAt,
    ],
  );
  return rows;
}

/**
 * Takes, until the transaction ends, the membership lock of each list: shared by the batches
 * that add access properties (they read the list's members and write their properties under
 * it), exclusive for the handling of an entry in or exit from the list (list-enrolment.ts),
 * which so never reads the list's properties while a batch that read its members has not
 * committed. Lists in id order, so that two transactions never wait on each other in a cycle.
 */
export async function lockListMembership(q: Queryable, listIds: string[], mode: 'shared' | 'exclusive'): Promise<void> {
  const lock = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  for (const listId of [...new Set(listIds.map((id) => id.toLowerCase()))].sort()) {
    await q.query(`SELECT ${lock}(hashtextextended($1, 0))`, [`assignment.list-membership:${listId}`]);
  }
}

export async function accessPropertiesOfList(q: Queryable, listId: string): Promise<AccessPropertyRow[]> {
  const { rows } = await q.query<AccessPropertyRow>('SELECT * FROM access_properties WHERE list_id = $1 ORDER BY created_at, id', [listId]);
  return rows;
}

export async function accessPropertiesOfObject(q: Queryable, kind: ObjectKind, objectId: string): Promise<AccessPropertyRow[]> {
  const { rows } = await q.query<AccessPropertyRow>(
    'SELECT * FROM access_properties WHERE object_type = $1 AND object_id = $2 ORDER BY created_at, id',
    [kind, objectId],
  );
  return rows;
}

export interface Sight {
  userId: string;
  objectType: ObjectKind;
  objectId: string;
  listId: string;
}

/** Records that users see objects through lists; returns the (user, object) pairs that
 * were not visible through any list before. */
export async function addVisibility(tx: Queryable, sights: Sight[]): Promise<Sight[]> {
  if (sights.length === 0) return [];
  const { rows } = await tx.query<{ user_id: string; object_type: ObjectKind; object_id: string; list_id: string }>(
    `WITH added AS (
       INSERT INTO visibility (user_id, object_type, object_id, list_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[])
       ON CONFLICT DO NOTHING
       RETURNING *
     )
     SELECT DISTINCT ON (a.user_id, a.object_type, a.object_id) a.* FROM added a
      WHERE NOT EXISTS (SELECT 1 FROM visibility v
                         WHERE v.user_id = a.user_id AND v.object_type = a.object_type AND v.object_id = a.object_id)
      ORDER BY a.user_id, a.object_type, a.object_id, a.list_id`,
    [sights.map((s) => s.userId), sights.map((s) => s.objectType), sights.map((s) => s.objectId), sights.map((s) => s.listId)],
  );
  return rows.map((r) => ({ userId: r.user_id, objectType: r.object_type, objectId: r.object_id, listId: r.list_id }));
}

/** A user left a list: what it saw through it; returns the objects it sees through no list
 * any more. */
export async function removeVisibilityOfMember(tx: Queryable, listId: string, userId: string): Promise<Sight[]> {
  const { rows } = await tx.query<{ object_type: ObjectKind; object_id: string }>(
    `WITH removed AS (DELETE FROM visibility WHERE list_id = $1 AND user_id = $2 RETURNING object_type, object_id)
     SELECT r.object_type, r.object_id FROM removed r
      WHERE NOT EXISTS (SELECT 1 FROM visibility v
                         WHERE v.user_id = $2 AND v.object_type = r.object_type AND v.object_id = r.object_id AND v.list_id <> $1)
      ORDER BY r.object_type, r.object_id`,
    [listId, userId],
  );
  return rows.map((r) => ({ userId, objectType: r.object_type, objectId: r.object_id, listId }));
}

/** Of these objects, those a user sees: no restricting access property, or a list of the
 * user's that gives it visibility. */
export async function visibleObjects(q: Queryable, userId: string, kind: ObjectKind, objectIds: string[]): Promise<string[]> {
  if (objectIds.length === 0) return [];
  const { rows } = await q.query<{ id: string }>(
    `SELECT o.id FROM unnest($3::uuid[]) WITH ORDINALITY AS o(id, n)
      WHERE NOT EXISTS (SELECT 1 FROM access_properties a WHERE a.object_type = $2 AND a.object_id = o.id AND a.restrict_visibility)
         OR EXISTS (SELECT 1 FROM visibility v WHERE v.user_id = $1 AND v.object_type = $2 AND v.object_id = o.id)
      ORDER BY o.n`,
    [userId, kind, objectIds],
  );
  return rows.map((r) => r.id);
}
