import { applyBatch, checkIds, checkTemplateId, itemIds, pairKey, Results, type Emit, type Queryable } from '@assistants/kit';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import type { ResetCoursesRequest, ResetCurriculaRequest } from '@assistants/proto/gen/statistics/v1/progress';
import type { CatalogItem } from '@assistants/proto/gen/statistics/v1/common';
import type { Deps } from './deps';
import { events } from './events';
import { followCourses } from './follow';
import { PERMISSIONS } from './permissions';
import { activeAssignments, coursesNamed, curriculaOf } from './projections.repo';
import { deleteLessonProgress, lockCurriculaHolding, upsertCurriculumProgress, type Pair } from './progress.repo';
import { toLearner, userRefusal, usersForAction } from './upstreams';
import { statusToProto } from './values';

/*
 * U9 and U14: a learner's progress on courses (and curricula) starts over; the assignments
 * stay. Each reset publishes a reset event carrying the notify template and the learner
 * (the notification service mails from it) and, when the status changed, a status event.
 */

const item = (o: { id: string; code: string; name: string } | undefined, id: string): CatalogItem => ({
  id,
  code: o?.code ?? '',
  name: o?.name ?? '',
});

interface CourseResetInput {
  learner: UserForAction;
  courseId: string;
  curriculum?: CatalogItem;
  notifyTemplateId: string;
}

/** Clears the lesson records of these pairs, lets their statuses follow (not started) and
 * publishes one reset event each. Returns each pair's previous status. */
async function resetCoursePairs(tx: Queryable, emit: Emit, resets: CourseResetInput[]) {
  const pairs: Pair[] = resets.map((r) => ({ userId: r.learner.id.toLowerCase(), courseId: r.courseId }));
  await deleteLessonProgress(tx, pairs);
  const followed = await followCourses(tx, emit, pairs, 'reset');
  const names = await coursesNamed(
    tx,
    resets.map((r) => r.courseId),
  );
  for (const r of resets) {
    const key = pairKey(r.learner.id.toLowerCase(), r.courseId);
    events.courseReset(emit, {
      learner: toLearner(r.learner),
      course: item(names.get(r.courseId), r.courseId),
      previousStatus: statusToProto(followed.get(key)!.previous),
      notifyTemplateId: r.notifyTemplateId,
      curriculum: r.curriculum,
    });
  }
  return followed;
}

/** U9: per user and course; the course must be assigned to the user (NOT_ASSIGNED). */
export async function resetCourses(deps: Deps, req: ResetCoursesRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseIds = checkIds('courseIds', req.courseIds, { required: true }).map((id) => id.toLowerCase());
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, courseIds);
    const candidates: CourseResetInput[] = [];
    for (const userId of userIds) {
      const refusal = userRefusal(users.get(userId), PERMISSIONS.write);
      for (const courseId of courseIds) {
        if (refusal) results.failed(userId, courseId, refusal);
        else candidates.push({ learner: users.get(userId)!, courseId, notifyTemplateId });
      }
    }
    const assigned = await activeAssignments(
      tx,
      'course',
      candidates.map((c) => ({ userId: c.learner.id.toLowerCase(), objectId: c.courseId })),
    );
    const accepted = candidates.filter((c) => {
      const userId = c.learner.id.toLowerCase();
      if (assigned.has(pairKey(userId, c.courseId))) return true;
      results.failed(userId, c.courseId, { code: 'NOT_ASSIGNED', message: 'the course is not assigned to the user' });
      return false;
    });
    const followed = await resetCoursePairs(tx, emit, accepted);
    for (const c of accepted) {
      const userId = c.learner.id.toLowerCase();
      const { previous } = followed.get(pairKey(userId, c.courseId))!;
      results.succeeded(userId, c.courseId, `was ${previous}`);
    }
    return results.list();
  });
}

/** U14: per user and curriculum; the curriculum must be assigned to the user. Its status
 * starts over at "not started"; with resetCourses, so does the progress on each of its
 * courses that the user has assigned (one reset event each, without a mail: the
 * curriculum's event carries the notification). Without, the curriculum's status follows its
 * courses again at their next change. */
export async function resetCurricula(deps: Deps, req: ResetCurriculaRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const curriculumIds = checkIds('curriculumIds', req.curriculumIds, { required: true }).map((id) => id.toLowerCase());
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, curriculumIds);
    const curricula = await curriculaOf(tx, curriculumIds);
    const candidates: { learner: UserForAction; curriculumId: string }[] = [];
    for (const userId of userIds) {
      const refusal = userRefusal(users.get(userId), PERMISSIONS.write);
      for (const curriculumId of curriculumIds) {
        if (refusal) results.failed(userId, curriculumId, refusal);
        else candidates.push({ learner: users.get(userId)!, curriculumId });
      }
    }
    const assigned = await activeAssignments(
      tx,
      'curriculum',
      candidates.map((c) => ({ userId: c.learner.id.toLowerCase(), objectId: c.curriculumId })),
    );
    const accepted = candidates.filter((c) => {
      const userId = c.learner.id.toLowerCase();
      if (assigned.has(pairKey(userId, c.curriculumId))) return true;
      results.failed(userId, c.curriculumId, { code: 'NOT_ASSIGNED', message: 'the curriculum is not assigned to the user' });
      return false;
    });
    // The curricula's status records, as they were.
    const before = new Map(
      (
        await lockCurriculaHolding(
          tx,
          accepted.flatMap((c) =>
            (curricula.get(c.curriculumId)?.course_ids ?? []).map((courseId) => ({ userId: c.learner.id.toLowerCase(), courseId })),
          ),
        )
      ).map((r) => [pairKey(r.user_id, r.curriculum_id), r]),
    );
    if (req.resetCourses) {
      const courseResets = accepted.flatMap((c) => {
        const curriculum = curricula.get(c.curriculumId);
        return (curriculum?.course_ids ?? []).map((courseId) => ({
          learner: c.learner,
          courseId,
          curriculum: item(curriculum, c.curriculumId),
          notifyTemplateId: '',
        }));
      });
      const assignedCourses = await activeAssignments(
        tx,
        'course',
        courseResets.map((r) => ({ userId: r.learner.id.toLowerCase(), objectId: r.courseId })),
      );
      await resetCoursePairs(
        tx,
        emit,
        courseResets.filter((r) => assignedCourses.has(pairKey(r.learner.id.toLowerCase(), r.courseId))),
      );
    }
    const now = new Date();
    const cleared = [];
    for (const c of accepted) {
      const userId = c.learner.id.toLowerCase();
      const curriculum = item(curricula.get(c.curriculumId), c.curriculumId);
      const previous = before.get(pairKey(userId, c.curriculumId))?.status ?? 'not_started';
      // With its courses, the curriculum followed them to "not started" already.
      if (!req.resetCourses && previous !== 'not_started') {
        cleared.push({ user_id: userId, curriculum_id: c.curriculumId, status: 'not_started' as const, status_date: now });
        events.curriculumStatusChanged(emit, {
          userId,
          curriculum,
          previousStatus: statusToProto(previous),
          status: statusToProto('not_started'),
          statusDate: now.toISOString(),
          reason: 'reset',
        });
      }
      events.curriculumReset(emit, {
        learner: toLearner(c.learner),
        curriculum,
        previousStatus: statusToProto(previous),
        notifyTemplateId,
        coursesReset: req.resetCourses,
      });
      results.succeeded(userId, c.curriculumId, `was ${previous}`);
    }
    await upsertCurriculumProgress(tx, cleared);
    return results.list();
  });
}
