import {
  DomainError,
  withContext,
  type ConsumerDefinition,
  type Emit,
  type EventEnvelope,
  type Logger,
  type Queryable,
} from '@assistants/kit';
import { ListMembershipChanged } from '@assistants/proto/gen/identity/v1/events';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import { courseEnrolmentsOf, curriculumEnrolmentsOf, grantVisibility } from './access-properties';
import { accessPropertiesOfList, lockListMembership, objectTypeToProto, removeVisibilityOfMember } from './access-properties.repo';
import { enrolCourses } from './course-assignments';
import { enrolCurricula } from './curriculum-assignments';
import type { Deps } from './deps';
import { events } from './events';
import { PERMISSIONS } from './permissions';
import { coursesById, curriculaById, usersForAction } from './upstreams';

/*
 * Users who enter a list after its access properties were added: identity's
 * identity.list-member.entered.v1 (with the instant of entry) enrols them as each property
 * of the list says (dates counted from that entry) and lets them see what the list's
 * restricting properties restrict; left.v1 takes that visibility back (their assignments
 * stay). The kit claims each event in the handler's transaction: a redelivered event is not
 * applied twice.
 */

export const LIST_ENROLMENT_DURABLE = 'assignment-list-enrolment';

/** The user who entered, as its enrolments' events need it: read on behalf of the
 * administrator who added the property (a consumer has no acting user of its own). */
async function enteringUser(deps: Deps, createdBy: string, userId: string): Promise<UserForAction | undefined> {
  try {
    const users = await withContext({ actorId: createdBy }, () =>
      usersForAction(deps.upstreams.identity, [userId], PERMISSIONS.accessProperties),
    );
    const user = users.get(userId);
    return user?.found && user.inScope ? user : undefined;
  } catch (err) {
    // The author may not act any more (gone, disabled, lost the grant): no retry changes
    // that. Anything else (identity away) fails the delivery, which comes again.
    if (err instanceof DomainError && ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'FAILED_PRECONDITION'].includes(err.code)) {
      return undefined;
    }
    throw err;
  }
}

/** Clocks of identity (entries) and of this service (members_read_at) may differ by this
 * much: an entry that close to the read is applied by both, which is harmless (the
 * enrolment finds the assignment made). */
const CLOCK_SKEW_MS = 60_000;

async function entered(deps: Deps, logger: Logger, tx: Queryable, emit: Emit, m: ListMembershipChanged): Promise<void> {
  // Waits for a batch adding a property to this list that read its members before this entry.
  await lockListMembership(tx, [m.listId], 'exclusive');
  const enteredAt = m.enteredAt ? new Date(m.enteredAt) : new Date();
  // An entry from before a property's members were read was applied with them (or the user
  // has left since, when this is a replay): not this consumer's.
  const properties = (await accessPropertiesOfList(tx, m.listId)).filter(
    (p) => enteredAt.getTime() >= p.members_read_at.getTime() - CLOCK_SKEW_MS,
  );
  if (properties.length === 0) return;
  const userId = m.userId.toLowerCase();
  await grantVisibility(
    tx,
    emit,
    properties
      .filter((p) => p.restrict_visibility)
      .map((p) => ({ userId, objectType: p.object_type, objectId: p.object_id, listId: p.list_id })),
  );
  const enrolling = properties.filter((p) => p.enrol);
  if (enrolling.length === 0) return;
  const user = await enteringUser(deps, enrolling[0].created_by, userId);
  if (!user) {
    logger.warn({ listId: m.listId, userId }, 'list entry: the user is gone or out of reach of the property’s author: not enrolled');
    return;
  }
  const member = [{ member: { userId, enteredAt: enteredAt.toISOString() }, user }];
  const { catalog } = deps.upstreams;
  const courseProps = enrolling.filter((p) => p.object_type === 'course');
  const curriculumProps = enrolling.filter((p) => p.object_type === 'curriculum');
  const curricula = await curriculaById(
    catalog,
    curriculumProps.map((p) => p.object_id),
  );
  const courses = await coursesById(catalog, [
    ...new Set([...courseProps.map((p) => p.object_id), ...[...curricula.values()].flatMap((c) => c.courseIds)]),
  ]);
  await enrolCourses(
    tx,
    emit,
    courseProps.flatMap((p) => {
      const course = courses.get(p.object_id);
      return course && !course.disabled ? courseEnrolmentsOf(p, course, member, false) : [];
    }),
  );
  await enrolCurricula(
    tx,
    emit,
    curriculumProps.flatMap((p) => {
      const curriculum = curricula.get(p.object_id);
      return curriculum && !curriculum.disabled ? curriculumEnrolmentsOf(p, curriculum, member, false) : [];
    }),
    courses,
  );
}

async function left(tx: Queryable, emit: Emit, m: ListMembershipChanged): Promise<void> {
  const userId = m.userId.toLowerCase();
  await lockListMembership(tx, [m.listId], 'exclusive');
  for (const s of await removeVisibilityOfMember(tx, m.listId, userId)) {
    events.visibilityChanged(emit, {
      userId,
      objectType: objectTypeToProto(s.objectType),
      objectId: s.objectId,
      visible: false,
      listId: m.listId,
    });
  }
}

export function listEnrolmentConsumer(deps: Deps, logger: Logger): ConsumerDefinition {
  return {
    stream: 'IDENTITY',
    durable: LIST_ENROLMENT_DURABLE,
    subject: 'identity.list-member.>',
    handler: async (event: EventEnvelope, { tx, emit }) => {
      const membership = ListMembershipChanged.fromJSON(event.data);
      if (event.subject === 'identity.list-member.entered.v1') await entered(deps, logger, tx, emit, membership);
      else if (event.subject === 'identity.list-member.left.v1') await left(tx, emit, membership);
    },
  };
}
