import type { Queryable } from '@assistants/kit';
import type { LessonType } from './rules';

/*
 * The projections of other services' events: the catalogue's courses (with their lessons)
 * and curricula, and the assignments. Written only by the consumers (and S1's fresh copy of
 * its course), read by the commands and the reads.
 */

export interface CourseCopy {
  id: string;
  code: string;
  name: string;
  externalTraining: boolean;
  disabled: boolean;
  folderId: string | null;
  categoryId: string | null;
  /** custom1..custom10. */
  custom: string[];
  deleted: boolean;
  /** The catalog's updated_at (RFC 3339). */
  version: string;
  lessons: { id: string; code: string; name: string; type: LessonType; position: number; optional: boolean }[];
}

/** Stores a course and its lessons unless a newer copy is there already. */
export async function upsertCourse(tx: Queryable, c: CourseCopy): Promise<void> {
  const { rowCount } = await tx.query(
    `INSERT INTO courses (id, code, name, external_training, deleted, version, disabled, folder_id, category_id, custom)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, external_training = EXCLUDED.external_training,
       deleted = EXCLUDED.deleted, version = EXCLUDED.version, disabled = EXCLUDED.disabled, folder_id = EXCLUDED.folder_id,
       category_id = EXCLUDED.category_id, custom = EXCLUDED.custom
     WHERE courses.version <= EXCLUDED.version`,
    [c.id, c.code, c.name, c.externalTraining, c.deleted, c.version, c.disabled, c.folderId, c.categoryId, c.custom],
  );
  if (rowCount === 0 || c.deleted) return;
  await tx.query('DELETE FROM lessons WHERE course_id = $1', [c.id]);
  await tx.query(
    `INSERT INTO lessons (id, course_id, code, name, type, position, optional)
     SELECT l.id, $1, l.code, l.name, l.type, l.position, l.optional
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::boolean[]) AS l(id, code, name, type, position, optional)`,
    [
      c.id,
      c.lessons.map((l) => l.id),
      c.lessons.map((l) => l.code),
      c.lessons.map((l) => l.name),
      c.lessons.map((l) => l.type),
      c.lessons.map((l) => l.position),
      c.lessons.map((l) => l.optional),
    ],
  );
}

export interface CurriculumCopy {
  id: string;
  code: string;
  name: string;
  courseIds: string[];
  disabled: boolean;
  folderId: string | null;
  custom: string[];
  deleted: boolean;
  version: string;
}

/** Stores a curriculum unless a newer copy is there; returns the users who have a record of
 * it when its courses changed (their status follows the new list), none otherwise. */
export async function upsertCurriculum(tx: Queryable, c: CurriculumCopy): Promise<string[]> {
  const { rows } = await tx.query<{ changed: boolean }>(
    `WITH before AS (SELECT course_ids FROM curricula WHERE id = $1)
     INSERT INTO curricula (id, code, name, course_ids, deleted, version, disabled, folder_id, custom)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, course_ids = EXCLUDED.course_ids,
       deleted = EXCLUDED.deleted, version = EXCLUDED.version, disabled = EXCLUDED.disabled, folder_id = EXCLUDED.folder_id,
       custom = EXCLUDED.custom
     WHERE curricula.version <= EXCLUDED.version
     RETURNING (SELECT course_ids FROM before) IS DISTINCT FROM $4::uuid[] AS changed`,
    [c.id, c.code, c.name, c.courseIds, c.deleted, c.version, c.disabled, c.folderId, c.custom],
  );
  if (!rows[0]?.changed) return [];
  const holders = await tx.query<{ user_id: string }>('SELECT user_id FROM curriculum_progress WHERE curriculum_id = $1', [c.id]);
  return holders.rows.map((r) => r.user_id);
}

export interface AssignmentCopy {
  userId: string;
  /** The course's or the curriculum's id. */
  objectId: string;
  startDate: string | null;
  objectiveDate: string | null;
  endDate: string | null;
  option: string;
  assignedAt: string;
  updatedAt: string;
}

const TABLES = {
  course: { assignments: 'course_assignments', progress: 'course_progress', column: 'course_id' },
  curriculum: { assignments: 'curriculum_assignments', progress: 'curriculum_progress', column: 'curriculum_id' },
} as const;

/** Assignments made or changed: stored (a removed one comes back), and a progress record
 * "not started" for those that have none (a new assignment starts not started; one assigned
 * again keeps its progress). */
export async function upsertAssignments(tx: Queryable, kind: 'course' | 'curriculum', rows: AssignmentCopy[]): Promise<void> {
  if (rows.length === 0) return;
  const t = TABLES[kind];
  // One row per pair (the last one wins): a statement may not update a row twice.
  rows = [...new Map(rows.map((r) => [`${r.userId}|${r.objectId}`, r])).values()];
  const col = (f: (r: AssignmentCopy) => unknown) => rows.map(f);
  await tx.query(
    `INSERT INTO ${t.assignments} AS a (user_id, ${t.column}, start_date, objective_date, end_date, option, assigned_at, updated_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::date[], $5::date[], $6::text[], $7::timestamptz[], $8::timestamptz[])
     ON CONFLICT (user_id, ${t.column}) DO UPDATE SET start_date = EXCLUDED.start_date, objective_date = EXCLUDED.objective_date,
       end_date = EXCLUDED.end_date, option = EXCLUDED.option, assigned_at = EXCLUDED.assigned_at,
       updated_at = EXCLUDED.updated_at, removed_at = NULL`,
    [
      col((r) => r.userId),
      col((r) => r.objectId),
      col((r) => r.startDate),
      col((r) => r.objectiveDate),
      col((r) => r.endDate),
      col((r) => r.option),
      col((r) => r.assignedAt),
      col((r) => r.updatedAt),
    ],
  );
  await tx.query(
    `INSERT INTO ${t.progress} (user_id, ${t.column}, status)
     SELECT DISTINCT p.user_id, p.object_id, 'not_started' FROM unnest($1::uuid[], $2::uuid[]) AS p(user_id, object_id)
     ON CONFLICT DO NOTHING`,
    [col((r) => r.userId), col((r) => r.objectId)],
  );
}

/** Assignments removed: kept as history, no longer shown. */
export async function markAssignmentsRemoved(tx: Queryable, kind: 'course' | 'curriculum', rows: { userId: string; objectId: string }[]) {
  if (rows.length === 0) return;
  const t = TABLES[kind];
  await tx.query(
    `UPDATE ${t.assignments} a SET removed_at = now()
       FROM unnest($1::uuid[], $2::uuid[]) AS r(user_id, object_id)
      WHERE a.user_id = r.user_id AND a.${t.column} = r.object_id AND a.removed_at IS NULL`,
    [rows.map((r) => r.userId), rows.map((r) => r.objectId)],
  );
}

export type LessonRow = {
  id: string;
  course_id: string;
  code: string;
  name: string;
  type: LessonType;
  position: number;
  optional: boolean;
};

export async function lessonsOfCourses(q: Queryable, courseIds: string[]): Promise<LessonRow[]> {
  if (courseIds.length === 0) return [];
  const { rows } = await q.query<LessonRow>('SELECT * FROM lessons WHERE course_id = ANY($1::uuid[]) ORDER BY course_id, position, id', [
    courseIds,
  ]);
  return rows;
}

export type NamedRow = {
  id: string;
  code: string;
  name: string;
};

export async function coursesNamed(q: Queryable, ids: string[]): Promise<Map<string, NamedRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<NamedRow>('SELECT id, code, name FROM courses WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

export async function curriculaOf(q: Queryable, ids: string[]): Promise<Map<string, NamedRow & { course_ids: string[] }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<NamedRow & { course_ids: string[] }>(
    'SELECT id, code, name, course_ids FROM curricula WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The (user, object) pairs of these that are assigned now (not removed). */
export async function activeAssignments(
  q: Queryable,
  kind: 'course' | 'curriculum',
  pairs: { userId: string; objectId: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const t = TABLES[kind];
  const { rows } = await q.query<{ user_id: string; object_id: string }>(
    `SELECT a.user_id, a.${t.column} AS object_id FROM ${t.assignments} a
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, object_id) ON a.user_id = p.user_id AND a.${t.column} = p.object_id
      WHERE a.removed_at IS NULL`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.objectId)],
  );
  return new Set(rows.map((r) => `${r.user_id}|${r.object_id}`));
}
