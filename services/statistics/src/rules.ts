/*
 * The status rules, as pure functions (the README says them in words; test/rules.test.ts
 * holds them as tables). A course's status follows from its lessons, a curriculum's from its
 * courses; the merge keeps the better of two records.
 */

export const STATUSES = ['not_started', 'browsed', 'failed', 'incomplete', 'passed', 'completed'] as const;
export type Status = (typeof STATUSES)[number];

/** Catalog lesson types: A assignment (mission), L lesson (SCORM/AICC content), W webinar,
 * T LTI activity or instructor-led lesson, E educational resource. */
export type LessonType = 'A' | 'L' | 'W' | 'T' | 'E';

/** An educational resource is consulted, not followed: it never counts for the course. */
export const countsForCourse = (type: LessonType): boolean => type !== 'E';

/** The lessons that may carry a score: an assignment is graded, a SCORM lesson and an LTI
 * activity report a test's score. A webinar and a resource have no test. */
export const hasTest = (type: LessonType): boolean => type === 'A' || type === 'L' || type === 'T';

/** Only instructor-led lessons (type T) record whether the learner was present. */
export const recordsPresence = (type: LessonType): boolean => type === 'T';

const done = (s: Status) => s === 'passed' || s === 'completed';
const finished = (s: Status) => done(s) || s === 'failed';

export interface LessonState {
  type: LessonType;
  optional: boolean;
  status: Status;
}

/**
 * A course's status from its lessons:
 * - the lessons that count are those of types A, L, W, T; of those, the required ones are
 *   those not optional (a course whose counted lessons are all optional requires them all:
 *   there must be something to complete);
 * - completed: every required lesson is passed or completed (optional ones need nothing);
 * - failed: every required lesson is finished (passed, completed or failed) and one failed;
 * - otherwise, when any lesson (optional and resources included) has been touched: browsed
 *   if every touched lesson is only browsed, incomplete otherwise;
 * - not started when nothing was touched (and a course with no counted lesson never gets
 *   beyond browsed or incomplete).
 */
export function courseStatus(lessons: LessonState[]): Status {
  const counted = lessons.filter((l) => countsForCourse(l.type));
  const mandatory = counted.filter((l) => !l.optional);
  const required = mandatory.length > 0 ? mandatory : counted;
  if (required.length > 0 && required.every((l) => done(l.status))) return 'completed';
  if (required.length > 0 && required.every((l) => finished(l.status))) return 'failed';
  const touched = lessons.filter((l) => l.status !== 'not_started');
  if (touched.length === 0) return 'not_started';
  return touched.every((l) => l.status === 'browsed') ? 'browsed' : 'incomplete';
}

/**
 * A curriculum's status from the statuses of its courses (every course of a curriculum is
 * required; a course with no record is not started):
 * - completed: every course is passed or completed;
 * - failed: every course is finished and one failed;
 * - browsed: every course touched is only browsed; incomplete: some course was touched;
 * - not started otherwise (an empty curriculum stays not started).
 */
export function curriculumStatus(courses: Status[]): Status {
  if (courses.length === 0) return 'not_started';
  if (courses.every(done)) return 'completed';
  if (courses.every(finished)) return 'failed';
  const touched = courses.filter((s) => s !== 'not_started');
  if (touched.length === 0) return 'not_started';
  return touched.every((s) => s === 'browsed') ? 'browsed' : 'incomplete';
}

/** The merge's order of results: completed and passed first, then failed, incomplete,
 * browsed, not started. */
const RANK: Record<Status, number> = { completed: 5, passed: 5, failed: 3, incomplete: 2, browsed: 1, not_started: 0 };

export interface Result {
  status: Status;
  score: number | null;
  /** Milliseconds since the epoch; null when never set. */
  statusDate: number | null;
}

/** Whether `a` is a better result than `b` (M1): the better status (above), then the higher
 * score (a score over none), then the later status date. Equal results: not better (the
 * kept user's record stays). */
export function isBetter(a: Result, b: Result): boolean {
  if (RANK[a.status] !== RANK[b.status]) return RANK[a.status] > RANK[b.status];
  if ((a.score ?? -1) !== (b.score ?? -1)) return (a.score ?? -1) > (b.score ?? -1);
  return (a.statusDate ?? -Infinity) > (b.statusDate ?? -Infinity);
}

/** Of two competency scores (null: not evaluated), the one a merge keeps: the higher. */
export function betterScore(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
