import { applyBatch, checkId, invalidArgument, itemResult, pairKey, type Queryable } from '@assistants/kit';
import { Outcome, type BatchResult, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import {
  WhenStatusExists,
  type AssignedCourse,
  type FindUnassignedCoursesRequest,
  type FindUnassignedCoursesResponse,
  type ImportCourseStatisticsRequest,
  type ImportExternalTrainingsRequest,
  type ImportLessonStatisticsRequest,
} from '@assistants/proto/gen/statistics/v1/imports';
import type { ListExternalTrainingsResponse } from '@assistants/proto/gen/statistics/v1/progress';
import type { Deps } from './deps';
import { events } from './events';
import { followCourses, followCurriculaHolding } from './follow';
import {
  coursesByCode,
  courseSessionsOf,
  deleteExternalTrainings,
  externalTrainingsOf,
  insertCourseSessions,
  insertLessonSessions,
  lessonSessionsOf,
  lessonsByCode,
  lockCourseRecords,
  lockExternalTrainings,
  lockLessonRecords,
  trainingKey,
  upsertCourseRecords,
  upsertExternalTrainings,
  usersByLogin,
  type CourseRecord,
  type CourseRef,
  type ExternalTrainingRecord,
  type Learner,
  type LessonRecord,
} from './imports.repo';
import { PERMISSIONS } from './permissions';
import { activeAssignments } from './projections.repo';
import { upsertLessonProgress } from './progress.repo';
import { hasTest, recordsPresence, type Status } from './rules';
import { requireUserInScope, userRefusal, usersForAction } from './upstreams';
import { statusFromProto, statusToProto } from './values';

/*
 * The statistics imports (proto/statistics/v1/imports.proto): each call is one chunk of an
 * import job. Its logins and codes are looked up at once in this service's projections, the
 * scope asked of identity once; then, in one transaction, the records of the chunk are read
 * (locked), each row is decided in order against what the rows before it left, and the
 * changes are written and published together. A row that fails changes nothing.
 */

const MAX_ROWS = 5_000;

/** A row's failure: the column at fault and why. */
class RowError extends Error {
  constructor(
    readonly column: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fail = (column: string, code: string, message: string): never => {
  throw new RowError(column, code, message);
};

/** Decides each row; a RowError is the row's failed result. */
function eachRow<R extends { itemId: string }>(rows: R[], decide: (row: R) => ItemResult[]): ItemResult[] {
  return rows.flatMap((row) => {
    try {
      return decide(row);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      return [itemResult.failed(row.itemId, error.column, error.code, error.message)];
    }
  });
}

const added = (itemId: string, message: string): ItemResult => ({ ...itemResult.succeeded(itemId, '', message), code: 'ADDED' });
const updated = (itemId: string, message: string): ItemResult => ({ ...itemResult.succeeded(itemId, '', message), code: 'UPDATED' });
const unchanged = (itemId: string) => itemResult.unchanged(itemId, '', 'UNCHANGED', 'nothing to change');

function checkRows(rows: unknown[]) {
  if (rows.length > MAX_ROWS) throw invalidArgument('rows', `at most ${MAX_ROWS} rows per call`);
}

/** The learners of a chunk by login, with whether the acting user holds statistics:write on
 * each (identity, once). */
async function learnersOf(deps: Deps, logins: string[]) {
  const byLogin = await usersByLogin(deps.db, logins);
  const access = await usersForAction(
    deps.upstreams.identity,
    [...byLogin.values()].map((u) => u.id),
    PERMISSIONS.write,
  );
  /** The row's learner, or the row's failure. */
  return (login: string, column: string): Learner => {
    const user = byLogin.get(login.toLowerCase());
    if (!user) return fail(column, 'NOT_FOUND', `no user with login ${login}`);
    const refusal = userRefusal(access.get(user.id), PERMISSIONS.write);
    if (refusal) return fail(column, refusal.code, refusal.code === 'NOT_FOUND' ? `no user with login ${login}` : refusal.message);
    return user;
  };
}

/** A YYYY-MM-DD date of a row, as the instant stored (midnight UTC), not after `now` when
 * given (a status date; an external training may be planned). */
function dateOf(value: string, column: string, now: Date | null): Date | null {
  if (!value) return null;
  const date = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()))
    return fail(column, 'INVALID', `${column} must be a date YYYY/MM/DD`);
  if (now && date.getTime() > now.getTime()) return fail(column, 'INVALID', `${column} is in the future`);
  return date;
}

const sameDay = (a: Date | null, b: Date) => a !== null && a.toISOString().slice(0, 10) === b.toISOString().slice(0, 10);

/** The (user, course) pairs of these that are assigned: by the projection of assignment
 * events, or just now by the importer (`assigned`: its event may not have reached the
 * projection yet). */
async function assignedPairs(tx: Queryable, pairs: { userId: string; courseId: string }[], assigned: AssignedCourse[]) {
  const active = await activeAssignments(
    tx,
    'course',
    pairs.map((p) => ({ userId: p.userId, objectId: p.courseId })),
  );
  for (const a of assigned) active.add(pairKey(a.userId.toLowerCase(), a.courseId.toLowerCase()));
  return active;
}

/** A row's status, one of `allowed`, or the row's failure. */
function rowStatus(value: number, column: string, allowed: readonly Status[]): Status {
  let status: Status | undefined;
  try {
    status = statusFromProto(column, value);
  } catch {
    status = undefined;
  }
  if (!status || !allowed.includes(status)) return fail(column, 'INVALID', `${column} must be one of ${allowed.join(', ')}`);
  return status;
}

const LESSON_STATUSES: readonly Status[] = ['not_started', 'failed', 'incomplete', 'passed', 'completed'];
const COURSE_STATUSES: readonly Status[] = ['not_started', 'incomplete', 'completed'];

/** What the idempotency key stands for: the rows and the option, not the pairs just assigned
 * (a chunk taken over after a kill may find them assigned by then and send fewer). */
const keyed = (req: { rows: unknown[]; whenStatusExists: WhenStatusExists }) => ({
  rows: req.rows,
  whenStatusExists: req.whenStatusExists,
});

const newSession = (when: WhenStatusExists) => when !== WhenStatusExists.WHEN_STATUS_EXISTS_REJECT;

/** I5: per row, a lesson record of a learner. */
export async function importLessonStatistics(deps: Deps, req: ImportLessonStatisticsRequest): Promise<BatchResult> {
  const { batch } = req;
  const request = keyed(req);
  checkRows(req.rows);
  const learner = await learnersOf(
    deps,
    req.rows.map((r) => r.login),
  );
  const courses = await coursesByCode(
    deps.db,
    req.rows.map((r) => r.courseCode),
  );
  const lessons = await lessonsByCode(
    deps.db,
    [...courses.values()].map((c) => c.id),
  );
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const now = new Date();
    // First what each row stands for (a failure here rejects the row before anything is read).
    const resolved = new Map<string, { userId: string; course: CourseRef; lessonId: string }>();
    const failures = eachRow(req.rows, (row) => {
      const user = learner(row.login, 'user_loginid');
      const course =
        courses.get(row.courseCode.toLowerCase()) ?? fail('crsvname', 'NOT_FOUND', `no course with unique id ${row.courseCode}`);
      const lesson =
        lessons.get(`${course.id}|${row.lessonCode.toLowerCase()}`) ??
        fail('lsnvname', 'NOT_FOUND', `course ${course.code} has no lesson with unique id ${row.lessonCode}`);
      if (row.lessonType !== lesson.type)
        fail('lnk_type', 'INVALID', `lesson ${lesson.code} is of type ${lesson.type}, not ${row.lessonType}`);
      rowStatus(row.status, 'lesson_status', LESSON_STATUSES);
      if (row.score !== undefined && (row.score < 0 || row.score > 100))
        fail('lesson_score', 'INVALID', 'lesson_score must be from 0 to 100');
      if (row.score !== undefined && !hasTest(lesson.type))
        fail('lesson_score', 'INVALID', `lesson ${lesson.code} (type ${lesson.type}) has no test: it takes no score`);
      if (row.timeSpentSeconds !== undefined && row.timeSpentSeconds < 0) fail('lesson_time', 'INVALID', 'lesson_time must be 0 or more');
      if (row.present !== undefined && !recordsPresence(lesson.type))
        fail('ilt_status', 'INVALID', `lesson ${lesson.code} is not instructor-led (type T): it records no presence`);
      dateOf(row.statusDate, 'lesson_status_date', now);
      resolved.set(row.itemId, { userId: user.id, course, lessonId: lesson.id });
      return [];
    });
    const pairs = [...resolved.values()].map((r) => ({ userId: r.userId, courseId: r.course.id, lessonId: r.lessonId }));
    const assigned = await assignedPairs(tx, pairs, req.assigned);
    const records = await lockLessonRecords(tx, pairs);
    const history = await lessonSessionsOf(tx, pairs);
    const sessions: LessonRecord[] = [];
    const touched = new Map<string, { userId: string; courseId: string }>();
    const lessonResults = new Map<string, string>();
    const written = new Set<string>();
    const results = eachRow(
      req.rows.filter((r) => resolved.has(r.itemId)),
      (row) => {
        const { userId, course, lessonId } = resolved.get(row.itemId)!;
        if (!assigned.has(pairKey(userId, course.id))) fail('crsvname', 'NOT_ASSIGNED', 'the course is not assigned to this user');
        const status = rowStatus(row.status, 'lesson_status', LESSON_STATUSES);
        const date = dateOf(row.statusDate, 'lesson_status_date', now);
        const key = pairKey(userId, lessonId);
        const before = records.get(key);
        const holds = (r: LessonRecord) =>
          r.status === status &&
          (row.score === undefined || r.score === row.score) &&
          (row.timeSpentSeconds === undefined || r.time_spent_seconds === row.timeSpentSeconds) &&
          (row.present === undefined || r.present === row.present) &&
          (date === null || sameDay(r.status_date, date));
        // The current record, or a previous session (a file of several sessions imported again).
        if ((before && holds(before)) || history.get(key)?.some(holds)) return [unchanged(row.itemId)];
        const exists = before !== undefined && before.status !== 'not_started';
        if (exists && !newSession(req.whenStatusExists)) {
          fail('lesson_status', 'STATUS_EXISTS', `the learner already has a status on this lesson (${before.status}): the row is rejected`);
        }
        if (exists) {
          sessions.push(before);
          history.set(key, [...(history.get(key) ?? []), before]);
        }
        // A new session starts from the row alone; a record not started yet keeps what the row
        // does not give.
        const base = exists ? undefined : before;
        const next: LessonRecord = {
          user_id: userId,
          lesson_id: lessonId,
          course_id: course.id,
          status,
          attempts: (before?.attempts ?? 0) + (status !== 'not_started' ? 1 : 0),
          score: row.score ?? base?.score ?? null,
          status_date: date ?? now,
          time_spent_seconds: row.timeSpentSeconds ?? base?.time_spent_seconds ?? 0,
          present: row.present ?? base?.present ?? null,
        };
        records.set(key, next);
        written.add(key);
        touched.set(pairKey(userId, course.id), { userId, courseId: course.id });
        lessonResults.set(row.itemId, pairKey(userId, course.id));
        const what = exists ? `lesson ${status} (a new session; the previous one, ${before.status}, kept as history)` : `lesson ${status}`;
        return [before ? updated(row.itemId, what) : added(row.itemId, what)];
      },
    );
    await insertLessonSessions(tx, sessions);
    await upsertLessonProgress(
      tx,
      [...written].map((k) => records.get(k)!),
    );
    const followed = await followCourses(tx, emit, [...touched.values()], 'lesson');
    for (const r of results) {
      const pair = lessonResults.get(r.itemId);
      const f = pair && followed.get(pair);
      if (f && r.outcome === Outcome.OUTCOME_SUCCEEDED)
        r.message += `; course ${f.status}${f.previous !== f.status ? ` (was ${f.previous})` : ''}`;
    }
    return [...failures, ...results];
  });
}

/** I6: per row, a course record of a learner, set as given (whatever its lessons). */
export async function importCourseStatistics(deps: Deps, req: ImportCourseStatisticsRequest): Promise<BatchResult> {
  const { batch } = req;
  const request = keyed(req);
  checkRows(req.rows);
  const learner = await learnersOf(
    deps,
    req.rows.map((r) => r.login),
  );
  const courses = await coursesByCode(
    deps.db,
    req.rows.map((r) => r.courseCode),
  );
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const now = new Date();
    const resolved = new Map<string, { userId: string; course: CourseRef }>();
    const failures = eachRow(req.rows, (row) => {
      const user = learner(row.login, 'user_loginid');
      const course =
        courses.get(row.courseCode.toLowerCase()) ?? fail('crsvname', 'NOT_FOUND', `no course with unique id ${row.courseCode}`);
      rowStatus(row.status, 'course_status', COURSE_STATUSES);
      dateOf(row.statusDate, 'course_status_date', now);
      dateOf(row.enrolmentDate, 'course_enrollement_date', now);
      resolved.set(row.itemId, { userId: user.id, course });
      return [];
    });
    const pairs = [...resolved.values()].map((r) => ({ userId: r.userId, courseId: r.course.id }));
    const assigned = await assignedPairs(tx, pairs, req.assigned);
    const records = await lockCourseRecords(tx, pairs);
    const history = await courseSessionsOf(tx, pairs);
    const sessions: CourseRecord[] = [];
    const changed = new Map<string, { course: CourseRef; previous: Status }>();
    const results = eachRow(
      req.rows.filter((r) => resolved.has(r.itemId)),
      (row) => {
        const { userId, course } = resolved.get(row.itemId)!;
        if (!assigned.has(pairKey(userId, course.id))) fail('crsvname', 'NOT_ASSIGNED', 'the course is not assigned to this user');
        const status = rowStatus(row.status, 'course_status', COURSE_STATUSES);
        const date = dateOf(row.statusDate, 'course_status_date', now);
        const enrolment = row.enrolmentDate || null;
        const key = pairKey(userId, course.id);
        const before = records.get(key);
        const holds = (r: CourseRecord) =>
          r.status === status && (date === null || sameDay(r.status_date, date)) && (enrolment === null || r.enrolment_date === enrolment);
        if ((before && holds(before)) || history.get(key)?.some(holds)) return [unchanged(row.itemId)];
        const exists = before !== undefined && before.status !== 'not_started';
        if (exists && !newSession(req.whenStatusExists)) {
          fail('course_status', 'STATUS_EXISTS', `the learner already has a status on this course (${before.status}): the row is rejected`);
        }
        if (exists) {
          sessions.push(before);
          history.set(key, [...(history.get(key) ?? []), before]);
        }
        records.set(key, {
          user_id: userId,
          course_id: course.id,
          status,
          status_date: date ?? (before && before.status === status ? before.status_date : now),
          enrolment_date: enrolment ?? before?.enrolment_date ?? null,
          time_spent_seconds: before?.time_spent_seconds ?? 0,
        });
        if (!changed.has(key)) changed.set(key, { course, previous: before?.status ?? 'not_started' });
        const what = exists ? `course ${status} (a new session; the previous one, ${before.status}, kept as history)` : `course ${status}`;
        return [before ? updated(row.itemId, what) : added(row.itemId, what)];
      },
    );
    await insertCourseSessions(tx, sessions);
    await upsertCourseRecords(
      tx,
      [...changed.keys()].map((k) => records.get(k)!),
    );
    for (const [key, { course, previous }] of changed) {
      const row = records.get(key)!;
      if (row.status === previous) continue;
      events.courseStatusChanged(emit, {
        userId: row.user_id,
        course: { id: course.id, code: course.code, name: course.name },
        previousStatus: statusToProto(previous),
        status: statusToProto(row.status),
        statusDate: (row.status_date ?? now).toISOString(),
        reason: 'import',
      });
    }
    await followCurriculaHolding(
      tx,
      emit,
      [...changed.keys()].map((k) => ({ userId: records.get(k)!.user_id, courseId: records.get(k)!.course_id })),
      'import',
    );
    return [...failures, ...results];
  });
}

/** I9: per row, an external training record of a learner, added, updated or deleted. */
export async function importExternalTrainings(deps: Deps, req: ImportExternalTrainingsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  checkRows(req.rows);
  const learner = await learnersOf(
    deps,
    req.rows.map((r) => r.login),
  );
  return applyBatch(deps.outbox, batch, request, async (tx) => {
    const resolved = new Map<string, { record: ExternalTrainingRecord; user: Learner }>();
    const failures = eachRow(req.rows, (row) => {
      const user = learner(row.login, 'learner_id');
      if (!row.courseName.trim()) fail('course_name', 'INVALID', 'course_name is mandatory');
      const start = dateOf(row.startDate, 'start_date', null) ?? fail('start_date', 'INVALID', 'start_date is mandatory');
      const end = dateOf(row.endDate, 'end_date', null) ?? fail('end_date', 'INVALID', 'end_date is mandatory');
      if (end < start) fail('end_date', 'INVALID', 'end_date is before start_date');
      resolved.set(row.itemId, {
        user,
        record: {
          user_id: user.id,
          course_name: row.courseName,
          course_code: row.courseCode,
          passport_type: row.passportType,
          start_date: row.startDate,
          end_date: row.endDate,
          provider: row.provider,
          duration: row.duration,
          modality: row.modality,
        },
      });
      return [];
    });
    const records = await lockExternalTrainings(
      tx,
      [...resolved.values()].map((r) => r.record),
    );
    // Per key, what the chunk leaves: a record, or null (deleted).
    const final = new Map<string, ExternalTrainingRecord | null>();
    const results = eachRow(
      req.rows.filter((r) => resolved.has(r.itemId)),
      (row) => {
        const { record, user } = resolved.get(row.itemId)!;
        const key = trainingKey(record);
        const before = final.has(key) ? final.get(key) : records.get(key);
        const warnings: ItemResult[] = [];
        const differs = (given: string, own: string) => given !== '' && given.toLowerCase() !== own.toLowerCase();
        if (differs(row.lastName, user.last_name) || differs(row.firstName, user.first_name)) {
          warnings.push(
            itemResult.unchanged(
              row.itemId,
              differs(row.lastName, user.last_name) ? 'learner_lastname' : 'learner_firstname',
              'WARNING',
              `user ${user.login} is ${user.first_name} ${user.last_name}`,
            ),
          );
        }
        if (row.delete) {
          if (!before) return [itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'no such record to delete'), ...warnings];
          final.set(key, null);
          return [updated(row.itemId, 'external training deleted'), ...warnings];
        }
        if (before && (Object.keys(record) as (keyof ExternalTrainingRecord)[]).every((f) => record[f] === before[f])) {
          return [unchanged(row.itemId), ...warnings];
        }
        final.set(key, record);
        return [before ? updated(row.itemId, 'external training updated') : added(row.itemId, 'external training added'), ...warnings];
      },
    );
    const entries = [...final.entries()];
    await deleteExternalTrainings(
      tx,
      // (a record an earlier row of the chunk added is not written yet: nothing to delete)
      entries.flatMap(([k, r]) => (r === null && records.has(k) ? [records.get(k)!] : [])),
    );
    await upsertExternalTrainings(
      tx,
      entries.flatMap(([, r]) => (r ? [r] : [])),
    );
    return [...failures, ...results];
  });
}

/** The pairs of rows whose learner (in scope) and course exist and are not assigned. */
export async function findUnassignedCourses(deps: Deps, req: FindUnassignedCoursesRequest): Promise<FindUnassignedCoursesResponse> {
  checkRows(req.pairs);
  const learner = await learnersOf(
    deps,
    req.pairs.map((p) => p.login),
  );
  const courses = await coursesByCode(
    deps.db,
    req.pairs.map((p) => p.courseCode),
  );
  const found = req.pairs.flatMap((p) => {
    const course = courses.get(p.courseCode.toLowerCase());
    try {
      return course ? [{ ...p, userId: learner(p.login, '').id, courseId: course.id }] : [];
    } catch (error) {
      if (error instanceof RowError) return [];
      throw error;
    }
  });
  const assigned = await assignedPairs(deps.db, found, []);
  const unassigned = new Map(
    found.filter((p) => !assigned.has(pairKey(p.userId, p.courseId))).map((p) => [pairKey(p.userId, p.courseId), p]),
  );
  return { pairs: [...unassigned.values()] };
}

/** A user's external training records (statistics:read on the user's organisation). */
export async function listExternalTrainings(deps: Deps, userId: string): Promise<ListExternalTrainingsResponse> {
  const id = checkId('userId', userId).toLowerCase();
  await requireUserInScope(deps.upstreams.identity, id, PERMISSIONS.read);
  const rows = await externalTrainingsOf(deps.db, id);
  return {
    userId: id,
    trainings: rows.map((r) => ({
      id: r.id,
      courseName: r.course_name,
      courseCode: r.course_code,
      passportType: r.passport_type,
      startDate: r.start_date,
      endDate: r.end_date,
      provider: r.provider,
      duration: r.duration,
      modality: r.modality,
      updatedAt: r.updated_at.toISOString(),
    })),
  };
}
