import { applyBatch, checkIds } from '@assistants/kit';
import type {
  AssignCoursesRequest,
  AssignLearnersRequest,
  RemoveCourseAssignmentsRequest,
  UpdateCourseAssignmentsRequest,
  UpdateLearnerAssignmentsRequest,
} from '@assistants/proto/gen/assignment/v1/assignments';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import { changeCourseAssignments, enrolCourses, removeCourseAssignments, type ChangeOutcome } from './course-assignments';
import type { Deps } from './deps';
import { catalogItem, checkTemplateId, itemIds, Results, sharesAudience, toLearner, userRefusal, type Refusal } from './items';
import { PERMISSIONS } from './permissions';
import { coursesById, requireCourses, usersForAction, type CourseInfo } from './upstreams';
import { dataChanges, dataToAssign } from './values';

/*
 * The course assignment actions of the user assistant (items: users; U7, U8, U10) and of
 * the course assistant (items: courses; C6, C7). Both act on (user, course) pairs; they
 * differ in which side is the item of the results.
 */

/** Which side of a pair is the batch's item. */
type Orientation = 'users' | 'courses';

interface Pair {
  userId: string;
  courseId: string;
}

/** The pairs of a batch, course by course (so that events of one user are not next to each
 * other, and the outbox relay publishes them in wide windows). */
function pairsOf(userIds: string[], courseIds: string[]): Pair[] {
  return courseIds.flatMap((courseId) => userIds.map((userId) => ({ userId, courseId })));
}

function resultsFor(orientation: Orientation, userIds: string[], courseIds: string[]) {
  const results = orientation === 'users' ? new Results(userIds, courseIds) : new Results(courseIds, userIds);
  const side = (p: Pair): [string, string] => (orientation === 'users' ? [p.userId, p.courseId] : [p.courseId, p.userId]);
  return {
    list: () => results.list(),
    succeeded: (p: Pair, message = '') => results.succeeded(...side(p), message),
    unchanged: (p: Pair, code: string, message: string) => results.unchanged(...side(p), code, message),
    failed: (p: Pair, refusal: Refusal) => results.failed(...side(p), refusal),
  };
}

/** Why a pair cannot be acted on: the course (unknown: an item of C6, C7), the user
 * (unknown, out of scope), and when assigning the course disabled or the audience rule. */
function pairRefusal(
  user: UserForAction | undefined,
  course: CourseInfo | undefined,
  rules: { assigning: boolean; ignoreAudiences: boolean },
): Refusal | null {
  if (!course) return { code: 'NOT_FOUND', message: 'no such course' };
  const refusal = userRefusal(user, PERMISSIONS.write);
  if (refusal) return refusal;
  if (!rules.assigning) return null;
  if (course.disabled) return { code: 'COURSE_DISABLED', message: `course ${course.code} is disabled` };
  if (!rules.ignoreAudiences && !sharesAudience(user!.audienceIds, course.audienceIds)) {
    return { code: 'AUDIENCE_MISMATCH', message: `the user shares none of the audiences of course ${course.code}` };
  }
  return null;
}

interface AssignInput {
  userIds: string[];
  courseIds: string[];
  courses: Map<string, CourseInfo>;
  values: AssignCoursesRequest['values'];
  ignoreAudiences: boolean;
  notifyTemplateId: string;
}

async function assign(deps: Deps, orientation: Orientation, input: AssignInput, batch: AssignCoursesRequest['batch'], request: unknown) {
  const data = dataToAssign(input.values, 'course');
  const users = await usersForAction(deps.upstreams.identity, input.userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = resultsFor(orientation, input.userIds, input.courseIds);
    const accepted: Pair[] = [];
    for (const pair of pairsOf(input.userIds, input.courseIds)) {
      const refusal = pairRefusal(users.get(pair.userId), input.courses.get(pair.courseId), {
        assigning: true,
        ignoreAudiences: input.ignoreAudiences,
      });
      if (refusal) results.failed(pair, refusal);
      else accepted.push(pair);
    }
    const outcomes = await enrolCourses(
      tx,
      emit,
      accepted.map((p) => ({
        learner: toLearner(users.get(p.userId)!),
        course: catalogItem(input.courses.get(p.courseId)!),
        data,
        origin: { kind: 'direct' },
        notifyTemplateId: input.notifyTemplateId,
      })),
    );
    outcomes.forEach((outcome, i) =>
      outcome === 'assigned'
        ? results.succeeded(accepted[i])
        : results.unchanged(accepted[i], 'ALREADY_ASSIGNED', 'the course is already assigned to the user'),
    );
    return results.list();
  });
}

interface ChangeInput {
  userIds: string[];
  courseIds: string[];
  courses: Map<string, CourseInfo>;
  values: AssignCoursesRequest['values'];
  notifyTemplateId: string;
}

function reportChange(results: ReturnType<typeof resultsFor>, pair: Pair, outcome: ChangeOutcome): void {
  if (outcome.kind === 'updated') results.succeeded(pair, `changed: ${outcome.changed.join(', ')}`);
  else if (outcome.kind === 'unchanged') results.unchanged(pair, 'NO_CHANGE', 'the assignment already has these values');
  else if (outcome.kind === 'not-assigned')
    results.failed(pair, { code: 'NOT_ASSIGNED', message: 'the course is not assigned to the user' });
  else results.failed(pair, { code: 'INVALID_DATES', message: outcome.message });
}

async function change(deps: Deps, orientation: Orientation, input: ChangeInput, batch: AssignCoursesRequest['batch'], request: unknown) {
  const changes = dataChanges(input.values, 'course');
  const users = await usersForAction(deps.upstreams.identity, input.userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = resultsFor(orientation, input.userIds, input.courseIds);
    const accepted: Pair[] = [];
    for (const pair of pairsOf(input.userIds, input.courseIds)) {
      const refusal = pairRefusal(users.get(pair.userId), input.courses.get(pair.courseId), { assigning: false, ignoreAudiences: true });
      if (refusal) results.failed(pair, refusal);
      else accepted.push(pair);
    }
    const outcomes = await changeCourseAssignments(
      tx,
      emit,
      accepted.map((p) => ({
        learner: toLearner(users.get(p.userId)!),
        course: catalogItem(input.courses.get(p.courseId)!),
        changes,
        notifyTemplateId: input.notifyTemplateId,
      })),
    );
    outcomes.forEach((outcome, i) => reportChange(results, accepted[i], outcome));
    return results.list();
  });
}

/** U7: assigns the courses to the selected users (one result per user and course). */
export async function assignCourses(deps: Deps, req: AssignCoursesRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseIds = checkIds('courseIds', req.courseIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  dataToAssign(req.values, 'course');
  const courses = await requireCourses(deps.upstreams.catalog, courseIds, 'courseIds');
  return assign(
    deps,
    'users',
    { userIds: itemIds(req.userIds), courseIds, courses, values: req.values, ignoreAudiences: req.ignoreAudiences, notifyTemplateId },
    batch,
    request,
  );
}

/** U8: changes the given fields of the selected users' assignments of the courses. */
export async function updateCourseAssignments(deps: Deps, req: UpdateCourseAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseIds = checkIds('courseIds', req.courseIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  dataChanges(req.values, 'course');
  const courses = await requireCourses(deps.upstreams.catalog, courseIds, 'courseIds');
  return change(deps, 'users', { userIds: itemIds(req.userIds), courseIds, courses, values: req.values, notifyTemplateId }, batch, request);
}

/** U10: removes the selected users' assignments of the courses. */
export async function removeCourseAssignmentsAction(deps: Deps, req: RemoveCourseAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const courseIds = checkIds('courseIds', req.courseIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  const courses = await requireCourses(deps.upstreams.catalog, courseIds, 'courseIds');
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = resultsFor('users', userIds, courseIds);
    const accepted: Pair[] = [];
    for (const pair of pairsOf(userIds, courseIds)) {
      const refusal = userRefusal(users.get(pair.userId), PERMISSIONS.write);
      if (refusal) results.failed(pair, refusal);
      else accepted.push(pair);
    }
    const outcomes = await removeCourseAssignments(
      tx,
      emit,
      accepted.map((p) => ({
        learner: toLearner(users.get(p.userId)!),
        course: catalogItem(courses.get(p.courseId)!),
        notifyTemplateId,
      })),
    );
    outcomes.forEach((outcome, i) =>
      outcome === 'removed'
        ? results.succeeded(accepted[i])
        : results.failed(accepted[i], { code: 'NOT_ASSIGNED', message: 'the course is not assigned to the user' }),
    );
    return results.list();
  });
}

/** C7: assigns the selected courses to the given learners (one result per course and
 * user). The audience rule always applies. */
export async function assignLearners(deps: Deps, req: AssignLearnersRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const userIds = checkIds('userIds', req.userIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  dataToAssign(req.values, 'course');
  const courseIds = itemIds(req.courseIds);
  const courses = await coursesById(deps.upstreams.catalog, courseIds);
  return assign(
    deps,
    'courses',
    { userIds, courseIds, courses, values: req.values, ignoreAudiences: false, notifyTemplateId },
    batch,
    request,
  );
}

/** C6: changes the given fields of the learners' assignments of the selected courses. */
export async function updateLearnerAssignments(deps: Deps, req: UpdateLearnerAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const userIds = checkIds('userIds', req.userIds, { required: true });
  dataChanges(req.values, 'course');
  const courseIds = itemIds(req.courseIds);
  const courses = await coursesById(deps.upstreams.catalog, courseIds);
  return change(deps, 'courses', { userIds, courseIds, courses, values: req.values, notifyTemplateId: '' }, batch, request);
}
