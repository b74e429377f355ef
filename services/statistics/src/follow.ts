import { pairKey, type Emit, type Queryable } from '@assistants/kit';
import { events } from './events';
import { coursesNamed, lessonsOfCourses } from './projections.repo';
import {
  courseStatuses,
  lessonProgressOf,
  lockCourseProgress,
  lockCurricula,
  lockCurriculaHolding,
  upsertCourseProgress,
  upsertCurriculumProgress,
  type CourseProgressRow,
  type CurriculumProgressRow,
  type Pair,
} from './progress.repo';
import { courseStatus, curriculumStatus, type Status } from './rules';
import { statusToProto } from './values';

/** Why a status changed, in its event. */
export type Reason = 'lesson' | 'reset' | 'merge' | 'assignment' | 'catalog' | 'import' | 'assessment';

export interface Followed {
  previous: Status;
  status: Status;
}

const latest = (dates: (Date | null)[]): Date | null => dates.reduce<Date | null>((max, d) => (d && (!max || d > max) ? d : max), null);

/**
 * The course statuses of these (user, course) pairs follow their lessons again (rules.ts),
 * then the statuses of the users' curricula that hold those courses follow their courses.
 * Every status that changed is stored and published. Call it after changing lesson records,
 * in the same transaction. Returns each pair's previous and new course status.
 */
export async function followCourses(tx: Queryable, emit: Emit, pairs: Pair[], reason: Reason): Promise<Map<string, Followed>> {
  const unique = [...new Map(pairs.map((p) => [pairKey(p.userId, p.courseId), p])).values()];
  const followed = new Map<string, Followed>();
  if (unique.length === 0) return followed;
  const before = new Map((await lockCourseProgress(tx, unique)).map((r) => [pairKey(r.user_id, r.course_id), r]));
  const courseIds = [...new Set(unique.map((p) => p.courseId))];
  const lessons = await lessonsOfCourses(tx, courseIds);
  const progress = new Map((await lessonProgressOf(tx, unique)).map((r) => [pairKey(r.user_id, r.lesson_id), r]));
  const now = new Date();
  const rows: CourseProgressRow[] = [];
  const changed: { row: CourseProgressRow; previous: Status }[] = [];
  for (const p of unique) {
    const own = lessons.filter((l) => l.course_id === p.courseId);
    const records = own.map((l) => progress.get(pairKey(p.userId, l.id)));
    const status = courseStatus(own.map((l, i) => ({ type: l.type, optional: l.optional, status: records[i]?.status ?? 'not_started' })));
    const prior = before.get(pairKey(p.userId, p.courseId));
    const previous = prior?.status ?? 'not_started';
    const statusDate =
      status === 'not_started' && previous === 'not_started'
        ? (prior?.status_date ?? null)
        : (latest(records.map((r) => r?.status_date ?? null)) ?? (status === previous ? (prior?.status_date ?? now) : now));
    const row = {
      user_id: p.userId,
      course_id: p.courseId,
      status,
      status_date: statusDate,
      time_spent_seconds: records.reduce((sum, r) => sum + (r?.time_spent_seconds ?? 0), 0),
    };
    rows.push(row);
    followed.set(pairKey(p.userId, p.courseId), { previous, status });
    if (status !== previous) changed.push({ row, previous });
  }
  await upsertCourseProgress(tx, rows);
  const names = await coursesNamed(tx, courseIds);
  for (const { row, previous } of changed) {
    const course = names.get(row.course_id) ?? { id: row.course_id, code: '', name: '' };
    events.courseStatusChanged(emit, {
      userId: row.user_id,
      course: { id: course.id, code: course.code, name: course.name },
      previousStatus: statusToProto(previous),
      status: statusToProto(row.status),
      statusDate: (row.status_date ?? now).toISOString(),
      reason,
    });
  }
  await followCurricula(tx, emit, await lockCurriculaHolding(tx, unique), reason);
  return followed;
}

/** These curriculum records follow their courses (a curriculum assigned to a user who has
 * done some of its courses already starts where they are). */
export async function followCurriculaOf(tx: Queryable, emit: Emit, pairs: { userId: string; curriculumId: string }[], reason: Reason) {
  await followCurricula(tx, emit, await lockCurricula(tx, pairs), reason);
}

/** The users' curricula holding these courses follow them (after course records were set
 * directly: I6). */
export async function followCurriculaHolding(tx: Queryable, emit: Emit, pairs: Pair[], reason: Reason) {
  await followCurricula(tx, emit, await lockCurriculaHolding(tx, pairs), reason);
}

/** These curriculum records (locked) follow their courses. */
async function followCurricula(
  tx: Queryable,
  emit: Emit,
  curricula: Awaited<ReturnType<typeof lockCurricula>>,
  reason: Reason,
): Promise<void> {
  if (curricula.length === 0) return;
  const statuses = await courseStatuses(
    tx,
    curricula.flatMap((c) => c.course_ids.map((courseId) => ({ userId: c.user_id, courseId }))),
  );
  const now = new Date();
  const rows: CurriculumProgressRow[] = [];
  for (const c of curricula) {
    const status = curriculumStatus(c.course_ids.map((id) => statuses.get(pairKey(c.user_id, id)) ?? 'not_started'));
    if (status === c.status) continue;
    const row = { user_id: c.user_id, curriculum_id: c.curriculum_id, status, status_date: now };
    rows.push(row);
    events.curriculumStatusChanged(emit, {
      userId: c.user_id,
      curriculum: { id: c.curriculum_id, code: c.code, name: c.name },
      previousStatus: statusToProto(c.status),
      status: statusToProto(status),
      statusDate: now.toISOString(),
      reason,
    });
  }
  await upsertCurriculumProgress(tx, rows);
}
