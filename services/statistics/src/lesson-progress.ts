import { applyBatch, checkId, DomainError, invalidArgument, itemIds, pairKey, Results } from '@assistants/kit';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { SetLessonProgressRequest } from '@assistants/proto/gen/statistics/v1/progress';
import type { Deps } from './deps';
import { followCourses } from './follow';
import { PERMISSIONS } from './permissions';
import { courseCopy } from './projections';
import { activeAssignments, upsertCourse } from './projections.repo';
import { lockLessonProgress, upsertLessonProgress } from './progress.repo';
import { hasTest, recordsPresence } from './rules';
import { userRefusal, usersForAction } from './upstreams';
import { checkScore, checkStatusDate, statusFromProto } from './values';

/** The course of S1 as the catalogue has it now (also refreshing this service's copy, so that
 * a lesson added a moment ago is known), or the field at fault. */
async function currentCourse(deps: Deps, courseId: string) {
  let courses;
  try {
    ({ courses } = await deps.upstreams.catalog.courses.getCourses({ ids: [courseId] }));
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INVALID_ARGUMENT') throw invalidArgument('courseId', `no course with id ${courseId}`);
    throw err;
  }
  if (courses.length === 0) throw invalidArgument('courseId', `no course with id ${courseId}`);
  return courseCopy(courses[0], false);
}

/**
 * S1: one lesson of one course, for each user (the assistant takes one): its status, the
 * attempt count reset (only with "not started"), its score (only a lesson with a test), its
 * status date, its time spent, presence (instructor-led lessons). The course's status and
 * those of the user's curricula holding it follow. The course must be assigned to the user
 * (NOT_ASSIGNED).
 */
export async function setLessonProgress(deps: Deps, req: SetLessonProgressRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseId = checkId('courseId', req.courseId).toLowerCase();
  const lessonId = checkId('lessonId', req.lessonId).toLowerCase();
  const status = statusFromProto('status', req.status);
  if (req.resetAttempts && status !== 'not_started') {
    throw invalidArgument('resetAttempts', 'the attempt count is reset only together with the status not_started');
  }
  const score = checkScore('score', req.score);
  const statusDate = checkStatusDate('statusDate', req.statusDate);
  const timeSpent = req.timeSpentSeconds;
  if (timeSpent !== undefined && (!Number.isInteger(timeSpent) || timeSpent < 0 || timeSpent > 10 * 365 * 86_400)) {
    throw invalidArgument('timeSpentSeconds', 'timeSpentSeconds must be a whole number of seconds, 0 or more');
  }
  const course = await currentCourse(deps, courseId);
  const lesson = course.lessons.find((l) => l.id === lessonId);
  if (!lesson) throw invalidArgument('lessonId', `course ${course.code} has no lesson with id ${lessonId}`);
  if (score !== undefined && !hasTest(lesson.type)) {
    throw invalidArgument('score', `lesson ${lesson.code} (type ${lesson.type}) has no test: it takes no score`);
  }
  if (req.present !== undefined && !recordsPresence(lesson.type)) {
    throw invalidArgument('present', `lesson ${lesson.code} is not instructor-led (type T)`);
  }
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    await upsertCourse(tx, course);
    const results = new Results(userIds, [lessonId]);
    const candidates = userIds.filter((userId) => {
      const refusal = userRefusal(users.get(userId), PERMISSIONS.write);
      if (refusal) results.failed(userId, lessonId, refusal);
      return !refusal;
    });
    const assigned = await activeAssignments(
      tx,
      'course',
      candidates.map((userId) => ({ userId, objectId: courseId })),
    );
    const accepted = candidates.filter((userId) => {
      if (assigned.has(pairKey(userId, courseId))) return true;
      results.failed(userId, lessonId, { code: 'NOT_ASSIGNED', message: `course ${course.code} is not assigned to the user` });
      return false;
    });
    const rows = [];
    for (const userId of accepted) {
      const before = await lockLessonProgress(tx, userId, lessonId);
      // A new status other than "not started" is one more attempt; a status set again is not.
      const attempts = req.resetAttempts ? 0 : (before?.attempts ?? 0) + (status !== 'not_started' && status !== before?.status ? 1 : 0);
      rows.push({
        user_id: userId,
        lesson_id: lessonId,
        course_id: courseId,
        status,
        attempts,
        score: score ?? before?.score ?? null,
        status_date: statusDate,
        time_spent_seconds: timeSpent ?? before?.time_spent_seconds ?? 0,
        present: req.present ?? before?.present ?? null,
      });
    }
    await upsertLessonProgress(tx, rows);
    const followed = await followCourses(
      tx,
      emit,
      accepted.map((userId) => ({ userId, courseId })),
      'lesson',
    );
    for (const userId of accepted) {
      const f = followed.get(pairKey(userId, courseId))!;
      results.succeeded(userId, lessonId, `lesson ${status}; course ${f.status}${f.previous !== f.status ? ` (was ${f.previous})` : ''}`);
    }
    return results.list();
  });
}
