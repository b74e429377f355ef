import { isId, type Queryable } from '@assistants/kit';
import type { LessonSession, Session } from '@assistants/proto/gen/catalog/v1/sessions';

/** Date-times as the contract gives them ("YYYY-MM-DDTHH:mm", wall clock): formatted by SQL,
 * so that no driver reads a time zone into them. */
const AT = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI')`;

export type SessionRow = {
  id: string;
  course_id: string;
  external_id: string;
  start: string;
  status: string;
  max_participants: number;
  immediate_confirmation: boolean;
  waiting_list: boolean;
  main_trainer_id: string;
  trainer_ids: string[];
  room_ext_id: string;
  manager_id: string | null;
  organisation_ids: string[];
  created_at: Date;
  updated_at: Date;
};

type LessonSessionRow = { session_id: string; lesson_id: string; lesson_code: string; start: string; end: string };

const SESSION_COLUMNS = `s.id, s.course_id, s.external_id, ${AT('s.starts_at')} AS start, s.status, s.max_participants,
  s.immediate_confirmation, s.waiting_list, s.main_trainer_id, s.trainer_ids, s.room_ext_id, s.manager_id,
  s.organisation_ids, s.created_at, s.updated_at`;

function toSession(row: SessionRow, lessonSessions: LessonSession[]): Session {
  return {
    id: row.id,
    courseId: row.course_id,
    externalId: row.external_id,
    start: row.start,
    status: row.status,
    maxParticipants: row.max_participants,
    immediateConfirmation: row.immediate_confirmation,
    waitingList: row.waiting_list,
    mainTrainerId: row.main_trainer_id,
    trainerIds: row.trainer_ids,
    roomExtId: row.room_ext_id,
    managerId: row.manager_id ?? '',
    organisationIds: row.organisation_ids,
    lessonSessions,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Sessions with their lesson sessions: those of `where` (an SQL condition on `s` with $1),
 * by start then external id. Two statements. */
async function loadWhere(q: Queryable, where: string, param: unknown): Promise<Session[]> {
  const { rows } = await q.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE ${where} ORDER BY s.starts_at, lower(s.external_id), s.id`,
    [param],
  );
  if (rows.length === 0) return [];
  const lessons = await q.query<LessonSessionRow>(
    `SELECT ls.session_id, ls.lesson_id, l.code AS lesson_code, ${AT('ls.starts_at')} AS start, ${AT('ls.ends_at')} AS "end"
       FROM lesson_sessions ls JOIN lessons l ON l.id = ls.lesson_id
      WHERE ls.session_id = ANY($1::uuid[]) ORDER BY ls.session_id, ls.position`,
    [rows.map((r) => r.id)],
  );
  const bySession = new Map<string, LessonSession[]>();
  for (const r of lessons.rows) {
    const list = bySession.get(r.session_id) ?? [];
    list.push({ lessonId: r.lesson_id, lessonCode: r.lesson_code, start: r.start, end: r.end });
    bySession.set(r.session_id, list);
  }
  return rows.map((r) => toSession(r, bySession.get(r.id) ?? []));
}

export const loadSessions = (q: Queryable, ids: string[]) => loadWhere(q, 's.id = ANY($1::uuid[])', ids);
export const loadCourseSessions = (q: Queryable, courseId: string) => loadWhere(q, 's.course_id = $1', courseId);

export async function findSession(q: Queryable, id: string): Promise<Session | undefined> {
  return isId(id) ? (await loadSessions(q, [id.toLowerCase()]))[0] : undefined;
}

/** The sessions of these courses with these external ids (case-insensitive), locked for a
 * change, by `<course id>|<lower external id>`. */
export async function lockSessionsByRef(q: Queryable, refs: { courseId: string; externalId: string }[]): Promise<Map<string, Session>> {
  if (refs.length === 0) return new Map();
  const locked = await q.query<{ id: string }>(
    `SELECT s.id FROM sessions s JOIN unnest($1::uuid[], $2::text[]) AS r(course_id, external_id)
         ON s.course_id = r.course_id AND lower(s.external_id) = lower(r.external_id)
      ORDER BY s.id FOR UPDATE OF s`,
    [refs.map((r) => r.courseId), refs.map((r) => r.externalId)],
  );
  const sessions = await loadSessions(
    q,
    locked.rows.map((r) => r.id),
  );
  return new Map(sessions.map((s) => [sessionKey(s.courseId, s.externalId), s]));
}

export const sessionKey = (courseId: string, externalId: string) => `${courseId}|${externalId.toLowerCase()}`;
