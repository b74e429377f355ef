import type { CatalogClient } from '@assistants/catalog/client';
import { identityAuthority, type IdentityClient } from '@assistants/identity/client';
import {
  ALL_PERMISSIONS,
  invalidArgument,
  notFound,
  permissionDenied,
  ROOT_ORGANISATION_ID,
  unauthenticated,
  DomainError,
} from '@assistants/kit';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** The services the assignment service asks: identity (users of a batch and whether the
 * acting user may act on them, list members, grants) and catalog (courses and curricula).
 * Each is asked once per batch, never once per item. */
export interface Upstreams {
  identity: IdentityClient;
  catalog: CatalogClient;
}

/** A course as assignment rules read it. */
export interface CourseInfo {
  id: string;
  code: string;
  name: string;
  disabled: boolean;
  audienceIds: string[];
  /** "" when the course issues no certificate. */
  certificateTemplateId: string;
}

export interface CurriculumInfo {
  id: string;
  code: string;
  name: string;
  disabled: boolean;
  audienceIds: string[];
  /** In order. */
  courseIds: string[];
}

/** identity's GetUsersForAction takes at most this many ids per call. */
const USERS_PER_CALL = 5_000;
const MEMBERS_PER_PAGE = 5_000;

/** The users of a batch, by id: whether each exists and whether the acting user holds
 * `permission` on its organisation (PERMISSION_DENIED when it holds it nowhere), with what a
 * mail and the audience rule read; with `checkCovered`, whether the acting user holds every
 * grant of each (a change of the user itself, as the merge). */
export async function usersForAction(
  identity: IdentityClient,
  userIds: string[],
  permission: string,
  checkCovered = false,
): Promise<Map<string, UserForAction>> {
  const byId = new Map<string, UserForAction>();
  // Asked even for no users: the permission is checked all the same (a run's validation).
  for (let i = 0; i === 0 || i < userIds.length; i += USERS_PER_CALL) {
    const { users } = await identity.users.getUsersForAction({ userIds: userIds.slice(i, i + USERS_PER_CALL), permission, checkCovered });
    for (const user of users) byId.set(user.id.toLowerCase(), user);
  }
  return byId;
}

export async function coursesById(catalog: CatalogClient, ids: string[]): Promise<Map<string, CourseInfo>> {
  if (ids.length === 0) return new Map();
  const { courses } = await catalog.courses.getCourses({ ids });
  return new Map(
    courses.map((c) => [
      c.id,
      {
        id: c.id,
        code: c.code,
        name: c.name,
        disabled: c.disabled,
        audienceIds: c.audienceIds,
        certificateTemplateId: c.certificateTemplateId,
      },
    ]),
  );
}

export async function curriculaById(catalog: CatalogClient, ids: string[]): Promise<Map<string, CurriculumInfo>> {
  if (ids.length === 0) return new Map();
  const { curricula } = await catalog.curricula.getCurricula({ ids });
  return new Map(
    curricula.map((c) => [
      c.id,
      { id: c.id, code: c.code, name: c.name, disabled: c.disabled, audienceIds: c.audienceIds, courseIds: c.courseIds },
    ]),
  );
}

/** The courses of `ids`, refusing the parameter `field` when one is unknown. */
export async function requireCourses(catalog: CatalogClient, ids: string[], field: string): Promise<Map<string, CourseInfo>> {
  const courses = await coursesById(catalog, ids);
  ids.forEach((id, i) => {
    if (!courses.has(id)) throw invalidArgument(`${field}[${i}]`, `no course with id ${id}`);
  });
  return courses;
}

export async function requireCurricula(catalog: CatalogClient, ids: string[], field: string): Promise<Map<string, CurriculumInfo>> {
  const curricula = await curriculaById(catalog, ids);
  ids.forEach((id, i) => {
    if (!curricula.has(id)) throw invalidArgument(`${field}[${i}]`, `no curriculum with id ${id}`);
  });
  return curricula;
}

/** A list the acting user sees; its unknown id is the parameter at fault. */
export async function requireList(identity: IdentityClient, listId: string, field: string): Promise<void> {
  try {
    await identity.lists.getList({ id: listId });
  } catch (err) {
    if (err instanceof DomainError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
      throw invalidArgument(field, `no list with id ${listId}`);
    }
    throw err;
  }
}

export interface ListMember {
  userId: string;
  /** RFC 3339. */
  enteredAt: string;
}

/** Every member of a list (within the acting user's users:read scope), with when each
 * entered it. */
export async function listMembers(identity: IdentityClient, listId: string): Promise<ListMember[]> {
  const members: ListMember[] = [];
  let after = '';
  do {
    const page = await identity.lists.listListMembers({ listId, page: { limit: MEMBERS_PER_PAGE, offset: 0, after } });
    members.push(...page.members.map((m) => ({ userId: m.userId.toLowerCase(), enteredAt: m.enteredAt })));
    after = page.nextCursor;
  } while (after);
  return members;
}

/** Refuses unless the acting user holds `permission` through a grant on the root (global
 * settings such as access properties, reads across every organisation). */
export async function requireRootGrant(identity: IdentityClient, actorId: string, permission: string): Promise<void> {
  if (!actorId) throw unauthenticated('this call needs an acting user');
  const { grants } = await identityAuthority(identity).principal(actorId);
  const held = grants.some(
    (g) => g.organisationId === ROOT_ORGANISATION_ID && (g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS)),
  );
  if (!held) throw permissionDenied(`this needs the permission ${permission} on the root organisation`);
}

/** One user the acting user holds `permission` on; NOT_FOUND otherwise (as if it did not
 * exist: a scoped administrator learns nothing of users outside its scope). */
export async function requireUserInScope(identity: IdentityClient, userId: string, permission: string): Promise<UserForAction> {
  const user = (await usersForAction(identity, [userId], permission)).get(userId);
  if (!user?.found || !user.inScope) throw notFound(`no user with id ${userId}`, 'userId');
  return user;
}
