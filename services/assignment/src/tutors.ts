import { applyBatch, checkId, checkIds } from '@assistants/kit';
import type { AssignTutorsRequest } from '@assistants/proto/gen/assignment/v1/tutors';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { Deps } from './deps';
import { events } from './events';
import { catalogItem, itemIds, pairKey, Results, toLearner, userRefusal } from './items';
import { PERMISSIONS } from './permissions';
import { insertTutorships, toTutorship } from './tutors.repo';
import { requireCourses, requireList, usersForAction } from './upstreams';

/** U6: the selected users become tutors of the courses for the learners of the list. */
export async function assignTutors(deps: Deps, req: AssignTutorsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseIds = checkIds('courseIds', req.courseIds, { required: true });
  const listId = checkId('listId', req.listId);
  const courses = await requireCourses(deps.upstreams.catalog, courseIds, 'courseIds');
  await requireList(deps.upstreams.identity, listId, 'listId');
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.tutors);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, courseIds);
    const accepted: { userId: string; courseId: string }[] = [];
    for (const courseId of courseIds) {
      for (const userId of userIds) {
        const refusal = userRefusal(users.get(userId), PERMISSIONS.tutors);
        if (refusal) results.failed(userId, courseId, refusal);
        else accepted.push({ userId, courseId });
      }
    }
    const recorded = new Map(
      (
        await insertTutorships(
          tx,
          accepted.map((p) => ({ tutorId: p.userId, courseId: p.courseId, listId })),
        )
      ).map((r) => [pairKey(r.tutor_id, r.course_id), r]),
    );
    for (const p of accepted) {
      const row = recorded.get(pairKey(p.userId, p.courseId));
      if (!row) {
        results.unchanged(p.userId, p.courseId, 'ALREADY_TUTOR', 'the user already tutors this course for this list');
        continue;
      }
      events.tutorAssigned(emit, {
        tutorship: toTutorship(row),
        tutor: toLearner(users.get(p.userId)!),
        course: catalogItem(courses.get(p.courseId)!),
      });
      results.succeeded(p.userId, p.courseId);
    }
    return results.list();
  });
}
