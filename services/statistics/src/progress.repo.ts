import type { Queryable } from '@assistants/kit';
import type { Status } from './rules';

/*
 * The learners' progress: lessons (set by S1, cleared by resets), and the course and
 * curriculum statuses that follow from them (follow.ts).
 */

export type LessonProgressRow = {
  user_id: string;
  lesson_id: string;
  course_id: string;
  status: Status;
  attempts: number;
  score: number | null;
  status_date: Date | null;
  time_spent_seconds: number;
  present: boolean | null;
  updated_at: Date;
};

export type CourseProgressRow = {
  user_id: string;
  course_id: string;
  status: Status;
  status_date: Date | null;
  time_spent_seconds: number;
};

export type CurriculumProgressRow = {
  user_id: string;
  curriculum_id: string;
  status: Status;
  status_date: Date | null;
};

export interface Pair {
  userId: string;
  courseId: string;
}

const users = (pairs: Pair[]) => pairs.map((p) => p.userId);
const courses = (pairs: Pair[]) => pairs.map((p) => p.courseId);

/** The lesson records of these (user, course) pairs. */
export async function lessonProgressOf(q: Queryable, pairs: Pair[]): Promise<LessonProgressRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await q.query<LessonProgressRow>(
    `SELECT l.* FROM lesson_progress l
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON l.user_id = p.user_id AND l.course_id = p.course_id`,
    [users(pairs), courses(pairs)],
  );
  return rows;
}

/** The course records of these pairs, locked (in key order) for the transaction. */
export async function lockCourseProgress(q: Queryable, pairs: Pair[]): Promise<CourseProgressRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await q.query<CourseProgressRow>(
    `SELECT c.* FROM course_progress c
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON c.user_id = p.user_id AND c.course_id = p.course_id
      ORDER BY c.user_id, c.course_id FOR UPDATE OF c`,
    [users(pairs), courses(pairs)],
  );
  return rows;
}

export async function upsertCourseProgress(q: Queryable, rows: CourseProgressRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO course_progress (user_id, course_id, status, status_date, time_spent_seconds)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int[])
     ON CONFLICT (user_id, course_id) DO UPDATE SET status = EXCLUDED.status, status_date = EXCLUDED.status_date,
       time_spent_seconds = EXCLUDED.time_spent_seconds, updated_at = now()`,
    [
      rows.map((r) => r.user_id),
      rows.map((r) => r.course_id),
      rows.map((r) => r.status),
      rows.map((r) => r.status_date),
      rows.map((r) => r.time_spent_seconds),
    ],
  );
}

/** The curriculum records of these users that hold any of these courses, locked. */
export async function lockCurriculaHolding(
  q: Queryable,
  pairs: Pair[],
): Promise<(CurriculumProgressRow & { course_ids: string[]; code: string; name: string })[]> {
  if (pairs.length === 0) return [];
  const { rows } = await q.query<CurriculumProgressRow & { course_ids: string[]; code: string; name: string }>(
    `SELECT cp.*, c.course_ids, c.code, c.name
       FROM curriculum_progress cp
       JOIN curricula c ON c.id = cp.curriculum_id
      WHERE EXISTS (SELECT 1 FROM unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id)
                     WHERE p.user_id = cp.user_id AND p.course_id = ANY(c.course_ids))
      ORDER BY cp.user_id, cp.curriculum_id FOR UPDATE OF cp`,
    [users(pairs), courses(pairs)],
  );
  return rows;
}

/** The records of these (user, curriculum) pairs, locked. */
export async function lockCurricula(
  q: Queryable,
  pairs: { userId: string; curriculumId: string }[],
): Promise<(CurriculumProgressRow & { course_ids: string[]; code: string; name: string })[]> {
  if (pairs.length === 0) return [];
  const { rows } = await q.query<CurriculumProgressRow & { course_ids: string[]; code: string; name: string }>(
    `SELECT cp.*, c.course_ids, c.code, c.name
       FROM curriculum_progress cp
       JOIN curricula c ON c.id = cp.curriculum_id
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, curriculum_id) ON cp.user_id = p.user_id AND cp.curriculum_id = p.curriculum_id
      ORDER BY cp.user_id, cp.curriculum_id FOR UPDATE OF cp`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.curriculumId)],
  );
  return rows;
}

/** The statuses of these users' courses (absent: no record). */
export async function courseStatuses(q: Queryable, pairs: Pair[]): Promise<Map<string, Status>> {
  if (pairs.length === 0) return new Map();
  const { rows } = await q.query<{ user_id: string; course_id: string; status: Status }>(
    `SELECT c.user_id, c.course_id, c.status FROM course_progress c
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON c.user_id = p.user_id AND c.course_id = p.course_id`,
    [users(pairs), courses(pairs)],
  );
  return new Map(rows.map((r) => [`${r.user_id}|${r.course_id}`, r.status]));
}

export async function upsertCurriculumProgress(q: Queryable, rows: CurriculumProgressRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO curriculum_progress (user_id, curriculum_id, status, status_date)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[])
     ON CONFLICT (user_id, curriculum_id) DO UPDATE SET status = EXCLUDED.status, status_date = EXCLUDED.status_date, updated_at = now()`,
    [rows.map((r) => r.user_id), rows.map((r) => r.curriculum_id), rows.map((r) => r.status), rows.map((r) => r.status_date)],
  );
}

/** Clears the lesson records of these pairs; returns how many went per pair. */
export async function deleteLessonProgress(q: Queryable, pairs: Pair[]): Promise<Map<string, number>> {
  if (pairs.length === 0) return new Map();
  const { rows } = await q.query<{ user_id: string; course_id: string }>(
    `DELETE FROM lesson_progress l USING unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id)
      WHERE l.user_id = p.user_id AND l.course_id = p.course_id RETURNING l.user_id, l.course_id`,
    [users(pairs), courses(pairs)],
  );
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.user_id}|${r.course_id}`, (counts.get(`${r.user_id}|${r.course_id}`) ?? 0) + 1);
  return counts;
}

export async function lockLessonProgress(q: Queryable, userId: string, lessonId: string): Promise<LessonProgressRow | undefined> {
  const { rows } = await q.query<LessonProgressRow>('SELECT * FROM lesson_progress WHERE user_id = $1 AND lesson_id = $2 FOR UPDATE', [
    userId,
    lessonId,
  ]);
  return rows[0];
}

export async function upsertLessonProgress(q: Queryable, rows: Omit<LessonProgressRow, 'updated_at'>[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO lesson_progress (user_id, lesson_id, course_id, status, attempts, score, status_date, time_spent_seconds, present)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::timestamptz[], $8::int[], $9::boolean[])
     ON CONFLICT (user_id, lesson_id) DO UPDATE SET course_id = EXCLUDED.course_id, status = EXCLUDED.status,
       attempts = EXCLUDED.attempts, score = EXCLUDED.score, status_date = EXCLUDED.status_date,
       time_spent_seconds = EXCLUDED.time_spent_seconds, present = EXCLUDED.present, updated_at = now()`,
    [
      rows.map((r) => r.user_id),
      rows.map((r) => r.lesson_id),
      rows.map((r) => r.course_id),
      rows.map((r) => r.status),
      rows.map((r) => r.attempts),
      rows.map((r) => r.score),
      rows.map((r) => r.status_date),
      rows.map((r) => r.time_spent_seconds),
      rows.map((r) => r.present),
    ],
  );
}
