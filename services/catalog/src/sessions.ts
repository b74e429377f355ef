import { applyBatch, invalidArgument, isId, itemResult, notFound, type Emit, type Outbox, type Queryable } from '@assistants/kit';
import type { BatchResult, ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { ImportSessionsRequest, Session, SessionImportRow, SessionRef } from '@assistants/proto/gen/catalog/v1/sessions';
import type { Caller } from './caller';
import { findCourseRow } from './courses.repo';
import { events } from './events';
import type { SessionDirectory } from './session-directory';
import { findSession, loadCourseSessions, loadSessions, lockSessionsByRef, sessionKey } from './sessions.repo';

/*
 * The sessions of instructor-led courses: read by course, and written by the I8 import only.
 * A row of the file is the whole session: it is created, or changed to what the row says, or
 * left UNCHANGED (no event) when it already is so.
 */

/** A chunk is at most this many rows (the import sends 1,000 by default). */
const MAX_ROWS = 5_000;
export const SESSION_STATUSES = ['N', 'O', 'C', 'D', 'X'] as const;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const TEXT_MAX = 100;

/** The file's columns, by what they hold: messages and target ids name them. */
export const SESSION_COLUMNS = {
  course: 'crsvname',
  lessonSessions: 'lesson_sessions',
  start: 'session_start',
  externalId: 'session_extid',
  status: 'session_status',
  maxParticipants: 'max_participants',
  trainer: 'trainer_login',
  additionalTrainers: 'additional_trainers',
  room: 'room_extid',
  manager: 'manager_login',
  organisations: 'org_extids',
} as const;
const C = SESSION_COLUMNS;

export async function listCourseSessions(q: Queryable, caller: Caller, courseId: string): Promise<Session[]> {
  caller.requireRead();
  const course = await findCourseRow(q, { id: courseId }, 'courseId');
  return loadCourseSessions(q, course.id);
}

export async function getSession(q: Queryable, caller: Caller, id: string): Promise<Session> {
  caller.requireRead();
  const session = await findSession(q, id);
  if (!session) throw notFound(`no session with id ${JSON.stringify(id)}`, 'id');
  return session;
}

/** Service-level: which of these (course, external id) sessions exist. */
export async function findSessions(q: Queryable, refs: SessionRef[]): Promise<SessionRef[]> {
  if (refs.length > MAX_ROWS) throw invalidArgument('refs', `at most ${MAX_ROWS} refs per call, got ${refs.length}`);
  const wanted = refs.filter((r) => isId(r.courseId));
  if (wanted.length === 0) return [];
  const { rows } = await q.query<{ course_id: string; external_id: string }>(
    `SELECT DISTINCT s.course_id, s.external_id FROM sessions s JOIN unnest($1::uuid[], $2::text[]) AS r(course_id, external_id)
         ON s.course_id = r.course_id AND lower(s.external_id) = lower(r.external_id)`,
    [wanted.map((r) => r.courseId.toLowerCase()), wanted.map((r) => r.externalId)],
  );
  return rows.map((r) => ({ courseId: r.course_id, externalId: r.external_id }));
}

/** A row's refusal: a code, and the column at fault (its name starts the message). */
interface RowRefusal {
  column: string;
  code: string;
  message: string;
}
const refused = (column: string, code: string, message: string): RowRefusal => ({ column, code, message: `${column}: ${message}` });

/** What a checked row makes the session: the columns of `sessions` and its lesson sessions. */
interface SessionValues {
  courseId: string;
  externalId: string;
  start: string;
  status: string;
  maxParticipants: number;
  immediateConfirmation: boolean;
  waitingList: boolean;
  mainTrainerId: string;
  trainerIds: string[];
  roomExtId: string;
  managerId: string;
  organisationIds: string[];
  lessonSessions: { lessonId: string; start: string; end: string }[];
}

/** Whether a stored session already is what a row says. */
function sameSession(s: Session, v: SessionValues): boolean {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return (
    s.start === v.start &&
    s.status === v.status &&
    s.maxParticipants === v.maxParticipants &&
    s.immediateConfirmation === v.immediateConfirmation &&
    s.waitingList === v.waitingList &&
    s.mainTrainerId === v.mainTrainerId &&
    same(s.trainerIds, v.trainerIds) &&
    s.roomExtId === v.roomExtId &&
    s.managerId === v.managerId &&
    same(s.organisationIds, v.organisationIds) &&
    same(
      s.lessonSessions.map((l) => `${l.lessonId} ${l.start} ${l.end}`),
      v.lessonSessions.map((l) => `${l.lessonId} ${l.start} ${l.end}`),
    )
  );
}

const textProblem = (value: string) =>
  // eslint-disable-next-line no-control-regex
  value.length > TEXT_MAX || /[\u0000-\u001f]/.test(value) ? `at most ${TEXT_MAX} characters, no control characters` : null;

/** What the courses of a chunk are, with their lessons by lower-case code. */
type ChunkCourse = { id: string; code: string; lessons: Map<string, string> };

async function coursesOf(q: Queryable, codes: string[]): Promise<Map<string, ChunkCourse>> {
  const folded = [...new Set(codes.map((c) => c.toLowerCase()))];
  const { rows } = await q.query<{ id: string; code: string; lesson_id: string | null; lesson_code: string | null }>(
    `SELECT c.id, c.code, l.id AS lesson_id, l.code AS lesson_code
       FROM courses c LEFT JOIN lessons l ON l.course_id = c.id WHERE lower(c.code) = ANY($1::text[])`,
    [folded],
  );
  const courses = new Map<string, ChunkCourse>();
  for (const r of rows) {
    const course = courses.get(r.code.toLowerCase()) ?? { id: r.id, code: r.code, lessons: new Map() };
    if (r.lesson_id && r.lesson_code) course.lessons.set(r.lesson_code.toLowerCase(), r.lesson_id);
    courses.set(r.code.toLowerCase(), course);
  }
  return courses;
}

/** One row checked: the session's values and the warnings, or why it is refused. */
function checkRow(
  row: SessionImportRow,
  courses: Map<string, ChunkCourse>,
  users: Map<string, string>,
  organisations: Map<string, string>,
): { values: SessionValues; warnings: RowRefusal[] } | RowRefusal {
  const course = courses.get(row.courseCode.toLowerCase());
  if (!course) return refused(C.course, 'NOT_FOUND', `no course with code ${JSON.stringify(row.courseCode)}`);
  const externalProblem = !row.externalId.trim() ? 'is mandatory' : textProblem(row.externalId);
  if (externalProblem) return refused(C.externalId, 'INVALID', externalProblem);
  if (!DATETIME.test(row.start)) return refused(C.start, 'INVALID', 'must be a date and time');
  const status = row.status || 'N';
  if (!(SESSION_STATUSES as readonly string[]).includes(status)) {
    return refused(C.status, 'INVALID', `must be one of ${SESSION_STATUSES.join(', ')}`);
  }
  if (row.maxParticipants < 1) return refused(C.maxParticipants, 'INVALID', 'must be at least 1');
  const roomProblem = textProblem(row.roomExtId);
  if (roomProblem) return refused(C.room, 'INVALID', roomProblem);

  const lessonSessions: SessionValues['lessonSessions'] = [];
  for (const [i, ls] of row.lessonSessions.entries()) {
    const lessonId = course.lessons.get(ls.lessonCode.toLowerCase());
    const which = `lesson session ${i + 1}`;
    if (!lessonId) {
      return refused(C.lessonSessions, 'NOT_FOUND', `${which}: course ${course.code} has no lesson ${JSON.stringify(ls.lessonCode)}`);
    }
    if (!DATETIME.test(ls.start) || !DATETIME.test(ls.end)) return refused(C.lessonSessions, 'INVALID', `${which}: bad date and time`);
    if (ls.end <= ls.start) return refused(C.lessonSessions, 'INVALID_DATES', `${which}: its end is not after its start`);
    lessonSessions.push({ lessonId, start: ls.start, end: ls.end });
  }

  const mainTrainerId = users.get(row.trainerLogin.toLowerCase());
  if (!mainTrainerId) return refused(C.trainer, 'NOT_FOUND', `no user with login ${JSON.stringify(row.trainerLogin)}`);

  const organisationIds: string[] = [];
  for (const extId of row.organisationExtIds) {
    const id = organisations.get(extId.toLowerCase());
    if (!id) return refused(C.organisations, 'OUT_OF_SCOPE', `no organisation with external id ${JSON.stringify(extId)} in your scope`);
    organisationIds.push(id);
  }

  // Warnings: the session is imported without what cannot be found.
  const warnings: RowRefusal[] = [];
  const trainerIds: string[] = [];
  for (const login of row.additionalTrainerLogins) {
    const id = users.get(login.toLowerCase());
    if (!id) warnings.push(refused(C.additionalTrainers, 'WARNING', `no user with login ${JSON.stringify(login)}: left out`));
    else if (id !== mainTrainerId && !trainerIds.includes(id)) trainerIds.push(id);
  }
  let managerId = '';
  if (row.managerLogin) {
    managerId = users.get(row.managerLogin.toLowerCase()) ?? '';
    if (!managerId) warnings.push(refused(C.manager, 'WARNING', `no user with login ${JSON.stringify(row.managerLogin)}: no manager set`));
  }

  return {
    values: {
      courseId: course.id,
      externalId: row.externalId.trim(),
      start: row.start,
      status,
      maxParticipants: row.maxParticipants,
      immediateConfirmation: row.immediateConfirmation,
      waitingList: row.waitingList,
      mainTrainerId,
      trainerIds,
      roomExtId: row.roomExtId.trim(),
      managerId,
      organisationIds: [...new Set(organisationIds)].sort(),
      lessonSessions,
    },
    warnings,
  };
}

const SESSION_FIELDS = `starts_at = $2::timestamp, status = $3, max_participants = $4, immediate_confirmation = $5, waiting_list = $6,
  main_trainer_id = $7, trainer_ids = $8::uuid[], room_ext_id = $9, manager_id = $10, organisation_ids = $11::uuid[]`;

const sessionParams = (v: SessionValues) => [
  v.start,
  v.status,
  v.maxParticipants,
  v.immediateConfirmation,
  v.waitingList,
  v.mainTrainerId,
  v.trainerIds,
  v.roomExtId,
  v.managerId || null,
  v.organisationIds,
];

async function writeLessonSessions(tx: Queryable, sessionId: string, values: SessionValues): Promise<void> {
  await tx.query('DELETE FROM lesson_sessions WHERE session_id = $1', [sessionId]);
  if (values.lessonSessions.length === 0) return;
  await tx.query(
    `INSERT INTO lesson_sessions (session_id, lesson_id, position, starts_at, ends_at)
     SELECT $1, lesson_id, position, starts_at, ends_at
       FROM unnest($2::uuid[], $3::int[], $4::timestamp[], $5::timestamp[]) AS t(lesson_id, position, starts_at, ends_at)`,
    [
      sessionId,
      values.lessonSessions.map((l) => l.lessonId),
      values.lessonSessions.map((_l, i) => i + 1),
      values.lessonSessions.map((l) => l.start),
      values.lessonSessions.map((l) => l.end),
    ],
  );
}

/** I8: one chunk of a session import. */
export async function importSessions(
  outbox: Outbox,
  db: Queryable,
  caller: Caller,
  directory: SessionDirectory,
  req: ImportSessionsRequest,
): Promise<BatchResult> {
  caller.requireWrite();
  if (req.rows.length > MAX_ROWS) throw invalidArgument('rows', `at most ${MAX_ROWS} rows per call, got ${req.rows.length}`);
  if (new Set(req.rows.map((r) => r.itemId)).size !== req.rows.length) throw invalidArgument('rows', 'each row needs its own item_id');
  const { batch, ...request } = req;
  // What identity and the catalogue know, asked once for the chunk before the transaction.
  const logins = [
    ...new Set(
      req.rows.flatMap((r) => [r.trainerLogin, ...r.additionalTrainerLogins, r.managerLogin].filter((l) => l).map((l) => l.toLowerCase())),
    ),
  ];
  const extIds = [...new Set(req.rows.flatMap((r) => r.organisationExtIds.map((e) => e.toLowerCase())))];
  const [courses, users, organisations] = await Promise.all([
    coursesOf(
      db,
      req.rows.map((r) => r.courseCode),
    ),
    directory.userIds(logins),
    directory.organisationIds(extIds),
  ]);

  return applyBatch(outbox, batch, request, async (tx, emit) => {
    const results: ItemResult[] = [];
    const accepted: { row: SessionImportRow; values: SessionValues; warnings: RowRefusal[] }[] = [];
    const lineOf = new Map<string, string>();
    for (const row of req.rows) {
      const checked = checkRow(row, courses, users, organisations);
      if ('code' in checked) {
        results.push(itemResult.failed(row.itemId, checked.column, checked.code, checked.message));
        continue;
      }
      const key = sessionKey(checked.values.courseId, checked.values.externalId);
      const earlier = lineOf.get(key);
      if (earlier !== undefined) {
        results.push(
          itemResult.failed(row.itemId, C.externalId, 'DUPLICATE', `${C.externalId}: this session is already on line ${earlier}`),
        );
        continue;
      }
      lineOf.set(key, row.itemId);
      accepted.push({ row, ...checked });
    }
    const existing = await lockSessionsByRef(
      tx,
      accepted.map((a) => a.values),
    );
    const created: string[] = [];
    const updated: string[] = [];
    for (const { row, values, warnings } of accepted) {
      const before = existing.get(sessionKey(values.courseId, values.externalId));
      if (!before) {
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO sessions (course_id, external_id, starts_at, status, max_participants, immediate_confirmation, waiting_list,
                                 main_trainer_id, trainer_ids, room_ext_id, manager_id, organisation_ids)
           VALUES ($1, $2, $3::timestamp, $4, $5, $6, $7, $8, $9::uuid[], $10, $11, $12::uuid[]) RETURNING id`,
          [values.courseId, values.externalId, ...sessionParams(values)],
        );
        await writeLessonSessions(tx, rows[0].id, values);
        created.push(rows[0].id);
        results.push({ ...itemResult.succeeded(row.itemId), code: 'ADDED' });
      } else if (sameSession(before, values)) {
        results.push(itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'the session already has these values'));
      } else {
        await tx.query(`UPDATE sessions SET ${SESSION_FIELDS}, updated_at = now() WHERE id = $1`, [before.id, ...sessionParams(values)]);
        await writeLessonSessions(tx, before.id, values);
        updated.push(before.id);
        results.push({ ...itemResult.succeeded(row.itemId), code: 'UPDATED' });
      }
      for (const w of warnings) results.push(itemResult.unchanged(row.itemId, w.column, 'WARNING', w.message));
    }
    await emitSessions(tx, emit, created, updated);
    // In the order of the rows (a row's warnings after its own result; sort is stable).
    const order = new Map(req.rows.map((r, i) => [r.itemId, i]));
    return results.sort((a, b) => order.get(a.itemId)! - order.get(b.itemId)!);
  });
}

async function emitSessions(tx: Queryable, emit: Emit, created: string[], updated: string[]): Promise<void> {
  const changed = new Set(created);
  for (const session of await loadSessions(tx, [...created, ...updated])) {
    events.session(emit, changed.has(session.id) ? 'created' : 'updated', session);
  }
}
