import type { Queryable } from '@assistants/kit';
import type { LessonType, Status } from './rules';

/*
 * What the statistics imports (I5, I6, I9) read and write beyond progress.repo.ts: the
 * lookups of a chunk's logins and codes in the projections, the previous sessions, the
 * enrolment date, the external training records.
 */

export type Learner = { id: string; login: string; last_name: string; first_name: string };

/** The users (not deleted) of these logins, by login in lower case. */
export async function usersByLogin(q: Queryable, logins: string[]): Promise<Map<string, Learner>> {
  if (logins.length === 0) return new Map();
  const { rows } = await q.query<Learner>(
    'SELECT id, login, last_name, first_name FROM users WHERE lower(login) = ANY($1::text[]) AND NOT deleted',
    [[...new Set(logins.map((l) => l.toLowerCase()))]],
  );
  return new Map(rows.map((r) => [r.login.toLowerCase(), r]));
}

export type CourseRef = { id: string; code: string; name: string };

/** The courses (not deleted) of these codes, by code in lower case. */
export async function coursesByCode(q: Queryable, codes: string[]): Promise<Map<string, CourseRef>> {
  if (codes.length === 0) return new Map();
  const { rows } = await q.query<CourseRef>('SELECT id, code, name FROM courses WHERE lower(code) = ANY($1::text[]) AND NOT deleted', [
    [...new Set(codes.map((c) => c.toLowerCase()))],
  ]);
  return new Map(rows.map((r) => [r.code.toLowerCase(), r]));
}

export type LessonRef = { id: string; course_id: string; code: string; type: LessonType };

/** The lessons of these courses, by `<course id>|<code in lower case>`. */
export async function lessonsByCode(q: Queryable, courseIds: string[]): Promise<Map<string, LessonRef>> {
  if (courseIds.length === 0) return new Map();
  const { rows } = await q.query<LessonRef>('SELECT id, course_id, code, type FROM lessons WHERE course_id = ANY($1::uuid[])', [
    [...new Set(courseIds)],
  ]);
  return new Map(rows.map((r) => [`${r.course_id}|${r.code.toLowerCase()}`, r]));
}

export type LessonRecord = {
  user_id: string;
  lesson_id: string;
  course_id: string;
  status: Status;
  attempts: number;
  score: number | null;
  status_date: Date | null;
  time_spent_seconds: number;
  present: boolean | null;
};

/** The lesson records of these (user, lesson) pairs, locked, by `<user>|<lesson>`. */
export async function lockLessonRecords(q: Queryable, pairs: { userId: string; lessonId: string }[]): Promise<Map<string, LessonRecord>> {
  if (pairs.length === 0) return new Map();
  const { rows } = await q.query<LessonRecord>(
    `SELECT l.user_id, l.lesson_id, l.course_id, l.status, l.attempts, l.score, l.status_date, l.time_spent_seconds, l.present
       FROM lesson_progress l
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, lesson_id) ON l.user_id = p.user_id AND l.lesson_id = p.lesson_id
      ORDER BY l.user_id, l.lesson_id FOR UPDATE OF l`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.lessonId)],
  );
  return new Map(rows.map((r) => [`${r.user_id}|${r.lesson_id}`, r]));
}

/** Records replaced by a new session, kept as they were. */
export async function insertLessonSessions(q: Queryable, rows: LessonRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO lesson_progress_sessions (user_id, lesson_id, course_id, status, attempts, score, status_date, time_spent_seconds, present)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::timestamptz[], $8::int[], $9::boolean[])`,
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

/** The previous sessions of these (user, lesson) pairs, by `<user>|<lesson>`. */
export async function lessonSessionsOf(q: Queryable, pairs: { userId: string; lessonId: string }[]): Promise<Map<string, LessonRecord[]>> {
  const { rows } = await q.query<LessonRecord>(
    `SELECT s.user_id, s.lesson_id, s.course_id, s.status, s.attempts, s.score, s.status_date, s.time_spent_seconds, s.present
       FROM lesson_progress_sessions s
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, lesson_id) ON s.user_id = p.user_id AND s.lesson_id = p.lesson_id`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.lessonId)],
  );
  return groupBy(rows, (r) => `${r.user_id}|${r.lesson_id}`);
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

export type CourseRecord = {
  user_id: string;
  course_id: string;
  status: Status;
  status_date: Date | null;
  enrolment_date: string | null;
  time_spent_seconds: number;
};

/** The course records of these (user, course) pairs, locked, by `<user>|<course>`. */
export async function lockCourseRecords(q: Queryable, pairs: { userId: string; courseId: string }[]): Promise<Map<string, CourseRecord>> {
  if (pairs.length === 0) return new Map();
  const { rows } = await q.query<CourseRecord>(
    `SELECT c.user_id, c.course_id, c.status, c.status_date, c.enrolment_date::text, c.time_spent_seconds
       FROM course_progress c
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON c.user_id = p.user_id AND c.course_id = p.course_id
      ORDER BY c.user_id, c.course_id FOR UPDATE OF c`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.courseId)],
  );
  return new Map(rows.map((r) => [`${r.user_id}|${r.course_id}`, r]));
}

export async function upsertCourseRecords(q: Queryable, rows: CourseRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO course_progress (user_id, course_id, status, status_date, enrolment_date, time_spent_seconds)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::date[], $6::int[])
     ON CONFLICT (user_id, course_id) DO UPDATE SET status = EXCLUDED.status, status_date = EXCLUDED.status_date,
       enrolment_date = EXCLUDED.enrolment_date, time_spent_seconds = EXCLUDED.time_spent_seconds, updated_at = now()`,
    [
      rows.map((r) => r.user_id),
      rows.map((r) => r.course_id),
      rows.map((r) => r.status),
      rows.map((r) => r.status_date),
      rows.map((r) => r.enrolment_date),
      rows.map((r) => r.time_spent_seconds),
    ],
  );
}

/** The previous sessions of these (user, course) pairs, by `<user>|<course>`. */
export async function courseSessionsOf(q: Queryable, pairs: { userId: string; courseId: string }[]): Promise<Map<string, CourseRecord[]>> {
  const { rows } = await q.query<CourseRecord>(
    `SELECT s.user_id, s.course_id, s.status, s.status_date, s.enrolment_date::text, s.time_spent_seconds
       FROM course_progress_sessions s
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON s.user_id = p.user_id AND s.course_id = p.course_id`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.courseId)],
  );
  return groupBy(rows, (r) => `${r.user_id}|${r.course_id}`);
}

export async function insertCourseSessions(q: Queryable, rows: CourseRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO course_progress_sessions (user_id, course_id, status, status_date, enrolment_date, time_spent_seconds)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::date[], $6::int[])`,
    [
      rows.map((r) => r.user_id),
      rows.map((r) => r.course_id),
      rows.map((r) => r.status),
      rows.map((r) => r.status_date),
      rows.map((r) => r.enrolment_date),
      rows.map((r) => r.time_spent_seconds),
    ],
  );
}

export type ExternalTrainingRecord = {
  user_id: string;
  course_name: string;
  course_code: string;
  passport_type: string;
  start_date: string;
  end_date: string;
  provider: string;
  duration: string;
  modality: string;
};

/** What makes a record unique: its learner, its course (the unique id, else the name) and
 * its start date (migration 003). */
export const trainingKey = (r: Pick<ExternalTrainingRecord, 'user_id' | 'course_code' | 'course_name' | 'start_date'>) =>
  `${r.user_id}|${(r.course_code || r.course_name).toLowerCase()}|${r.start_date}`;

const TRAINING_COLUMNS =
  't.user_id, t.course_name, t.course_code, t.passport_type, t.start_date::text, t.end_date::text, t.provider, t.duration, t.modality';

/** The records of these keys, locked, by trainingKey. */
export async function lockExternalTrainings(q: Queryable, keys: ExternalTrainingRecord[]): Promise<Map<string, ExternalTrainingRecord>> {
  if (keys.length === 0) return new Map();
  const { rows } = await q.query<ExternalTrainingRecord>(
    `SELECT ${TRAINING_COLUMNS} FROM external_trainings t
       JOIN unnest($1::uuid[], $2::text[], $3::date[]) AS k(user_id, record_key, start_date)
         ON t.user_id = k.user_id AND t.record_key = k.record_key AND t.start_date = k.start_date
      ORDER BY t.user_id, t.record_key, t.start_date FOR UPDATE OF t`,
    [keys.map((k) => k.user_id), keys.map((k) => (k.course_code || k.course_name).toLowerCase()), keys.map((k) => k.start_date)],
  );
  return new Map(rows.map((r) => [trainingKey(r), r]));
}

export async function upsertExternalTrainings(q: Queryable, rows: ExternalTrainingRecord[]): Promise<void> {
  if (rows.length === 0) return;
  const col = (f: keyof ExternalTrainingRecord) => rows.map((r) => r[f]);
  await q.query(
    `INSERT INTO external_trainings (user_id, course_name, course_code, passport_type, start_date, end_date, provider, duration, modality)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::text[], $8::text[], $9::text[])
     ON CONFLICT (user_id, record_key, start_date) DO UPDATE SET course_name = EXCLUDED.course_name, course_code = EXCLUDED.course_code,
       passport_type = EXCLUDED.passport_type, end_date = EXCLUDED.end_date, provider = EXCLUDED.provider,
       duration = EXCLUDED.duration, modality = EXCLUDED.modality, updated_at = now()`,
    [
      col('user_id'),
      col('course_name'),
      col('course_code'),
      col('passport_type'),
      col('start_date'),
      col('end_date'),
      col('provider'),
      col('duration'),
      col('modality'),
    ],
  );
}

export async function deleteExternalTrainings(q: Queryable, keys: ExternalTrainingRecord[]): Promise<void> {
  if (keys.length === 0) return;
  await q.query(
    `DELETE FROM external_trainings t USING unnest($1::uuid[], $2::text[], $3::date[]) AS k(user_id, record_key, start_date)
      WHERE t.user_id = k.user_id AND t.record_key = k.record_key AND t.start_date = k.start_date`,
    [keys.map((k) => k.user_id), keys.map((k) => (k.course_code || k.course_name).toLowerCase()), keys.map((k) => k.start_date)],
  );
}

export async function externalTrainingsOf(
  q: Queryable,
  userId: string,
): Promise<(ExternalTrainingRecord & { id: string; updated_at: Date })[]> {
  const { rows } = await q.query<ExternalTrainingRecord & { id: string; updated_at: Date }>(
    `SELECT t.id, ${TRAINING_COLUMNS}, t.updated_at FROM external_trainings t WHERE t.user_id = $1 ORDER BY t.start_date DESC, t.course_name, t.id`,
    [userId],
  );
  return rows;
}
