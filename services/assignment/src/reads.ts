import { checkId, checkIds, invalidArgument, isId } from '@assistants/kit';
import type { ListCourseAssignmentsResponse, ListUserAssignmentsResponse } from '@assistants/proto/gen/assignment/v1/assignments';
import type { GetVisibilityResponse, ListAccessPropertiesResponse } from '@assistants/proto/gen/assignment/v1/access';
import { ObjectType, type Page } from '@assistants/proto/gen/assignment/v1/common';
import { accessPropertiesOfObject, toAccessProperty, visibleObjects } from './access-properties.repo';
import { certificatesOfUser, toCertificate } from './certificates.repo';
import { courseAssignmentsOfCourse, courseAssignmentsOfUser, toCourseAssignment } from './course-assignments.repo';
import { curriculumAssignmentsOfUser, toCurriculumAssignment } from './curriculum-assignments.repo';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { tutorshipsOfUser, toTutorship } from './tutors.repo';
import { requireRootGrant, requireUserInScope } from './upstreams';

/** What a user has: course and curriculum assignments, certificates, tutorships (the
 * acting user holds assignments:read on the user's organisation; NOT_FOUND otherwise). */
export async function listUserAssignments(deps: Deps, userId: string): Promise<ListUserAssignmentsResponse> {
  const id = checkId('userId', userId);
  await requireUserInScope(deps.upstreams.identity, id, PERMISSIONS.read);
  const [courses, curricula, certificates, tutorships] = await Promise.all([
    courseAssignmentsOfUser(deps.db, id),
    curriculumAssignmentsOfUser(deps.db, id),
    certificatesOfUser(deps.db, id),
    tutorshipsOfUser(deps.db, id),
  ]);
  return {
    courseAssignments: courses.map(toCourseAssignment),
    curriculumAssignments: curricula.map(toCurriculumAssignment),
    certificates: certificates.map(toCertificate),
    tutorships: tutorships.map(toTutorship),
  };
}

const encodeCursor = (userId: string) => Buffer.from(JSON.stringify([userId])).toString('base64url');

function decodeCursor(after: string): string | null {
  if (!after) return null;
  try {
    const [userId] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown[];
    if (typeof userId === 'string' && isId(userId)) return userId;
  } catch {
    // falls through to the refusal
  }
  throw invalidArgument('page.after', 'page.after must be the next_cursor of a previous page');
}

/** A course's assignments by user id (assignments:read on the root). */
export async function listCourseAssignments(
  deps: Deps,
  actorId: string,
  courseId: string,
  page: Page | undefined,
): Promise<ListCourseAssignmentsResponse> {
  const id = checkId('courseId', courseId);
  const limit = page?.limit || 100;
  if (limit > 1000) throw invalidArgument('page.limit', 'page.limit must be at most 1000');
  const after = decodeCursor(page?.after ?? '');
  await requireRootGrant(deps.upstreams.identity, actorId, PERMISSIONS.read);
  const { rows, total } = await courseAssignmentsOfCourse(deps.db, id, limit + 1, after);
  const shown = rows.slice(0, limit);
  return {
    assignments: shown.map(toCourseAssignment),
    nextCursor: rows.length > limit ? encodeCursor(shown[shown.length - 1].user_id) : '',
    total,
  };
}

function kindOf(type: ObjectType): 'course' | 'curriculum' {
  if (type === ObjectType.OBJECT_TYPE_COURSE) return 'course';
  if (type === ObjectType.OBJECT_TYPE_CURRICULUM) return 'curriculum';
  throw invalidArgument('objectType', 'objectType must be course or curriculum');
}

/** The access properties of a course or curriculum (assignments:read on the root). */
export async function listAccessProperties(
  deps: Deps,
  actorId: string,
  objectType: ObjectType,
  objectId: string,
): Promise<ListAccessPropertiesResponse> {
  const kind = kindOf(objectType);
  const id = checkId('objectId', objectId);
  await requireRootGrant(deps.upstreams.identity, actorId, PERMISSIONS.read);
  return { accessProperties: (await accessPropertiesOfObject(deps.db, kind, id)).map(toAccessProperty) };
}

/** Which of these courses and curricula the user sees (assignments:read on its organisation). */
export async function getVisibility(
  deps: Deps,
  userId: string,
  courseIds: string[],
  curriculumIds: string[],
): Promise<GetVisibilityResponse> {
  const id = checkId('userId', userId);
  const courses = checkIds('courseIds', courseIds);
  const curricula = checkIds('curriculumIds', curriculumIds);
  await requireUserInScope(deps.upstreams.identity, id, PERMISSIONS.read);
  const [visibleCourseIds, visibleCurriculumIds] = await Promise.all([
    visibleObjects(deps.db, id, 'course', courses),
    visibleObjects(deps.db, id, 'curriculum', curricula),
  ]);
  return { visibleCourseIds, visibleCurriculumIds };
}
