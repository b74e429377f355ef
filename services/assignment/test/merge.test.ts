import { refusal } from '@assistants/testing';
import { actorWithin, key, dryRun, newCourse, newUser, rows, startAssignmentBed, type AssignmentBed } from './helpers';
import { ROOT_ORGANISATION_ID, UNKNOWN_ID } from './helpers';

/** MergeUserAssignments (M1's assignment step) at the service: scope, users with more
 * rights, idempotency, dry run. What moves and what a same-course assignment keeps is tested
 * end to end through the gateway (gateway/test/merges.test.ts). */

let bed: AssignmentBed;

beforeAll(async () => {
  bed = await startAssignmentBed('merge');
}, 60_000);

afterAll(() => bed?.stop());

const held = async (userId: string) =>
  (await bed.assignment.db.query('SELECT course_id FROM course_assignments WHERE user_id = $1 ORDER BY course_id', [userId])).rows.map(
    (r) => r.course_id,
  );

async function userWithCourse(organisationId: string) {
  const user = await newUser(bed, { organisationId });
  const course = await newCourse(bed);
  await bed.api.assignments.assignCourses({
    batch: key(),
    userIds: [user],
    courseIds: [course.id],
    ignoreAudiences: false,
    notifyTemplateId: '',
  });
  return { user, course: course.id };
}

it('refuses a scoped administrator a user outside its scope, or holding more rights, and lets it merge within', async () => {
  const scoped = bed.as(await actorWithin(bed, [bed.org.lille], ['assignments:read', 'assignments:write']));
  const inside = await userWithCourse(bed.org.lille);
  const kept = await newUser(bed, { organisationId: bed.org.lille });
  const outside = await userWithCourse(bed.org.south);

  const outOfScope = await refusal(scoped.assignments.mergeUserAssignments({ batch: key(), fromUserId: outside.user, toUserId: kept }));
  expect([outOfScope.code, outOfScope.field]).toEqual(['NOT_FOUND', 'fromUserId']);
  const keptOutside = await refusal(
    scoped.assignments.mergeUserAssignments({ batch: dryRun(), fromUserId: inside.user, toUserId: outside.user }),
  );
  expect([keptOutside.code, keptOutside.field]).toEqual(['NOT_FOUND', 'toUserId']);
  // An administrator of the whole tree who sits in the scope.
  const stronger = await newUser(bed, { organisationId: bed.org.lille });
  const { role } = await bed.identity.roles.createRole({ name: 'Merge everything', description: '', permissions: ['*'] });
  await bed.identity.roles.grantRoles({ userIds: [stronger], roleIds: [role!.id], organisationId: ROOT_ORGANISATION_ID });
  const moreRights = await refusal(scoped.assignments.mergeUserAssignments({ batch: key(), fromUserId: stronger, toUserId: kept }));
  expect([moreRights.code, moreRights.field]).toEqual(['PERMISSION_DENIED', 'fromUserId']);
  const unknown = await refusal(scoped.assignments.mergeUserAssignments({ batch: key(), fromUserId: UNKNOWN_ID, toUserId: kept }));
  expect([unknown.code, unknown.field]).toEqual(['NOT_FOUND', 'fromUserId']);
  expect(await held(outside.user)).toEqual([outside.course]);

  const batch = key();
  const { result } = await scoped.assignments.mergeUserAssignments({ batch, fromUserId: inside.user, toUserId: kept });
  expect(rows(result)).toEqual([[inside.course, 'course_assignment', 'SUCCEEDED', '']]);
  expect(await held(inside.user)).toEqual([]);
  expect(await held(kept)).toEqual([inside.course]);
});

it('answers a dry run without changing anything, and a repeated key with what it recorded', async () => {
  const from = await userWithCourse(bed.org.north);
  const to = await newUser(bed);
  const { result: dry } = await bed.api.assignments.mergeUserAssignments({ batch: dryRun(), fromUserId: from.user, toUserId: to });
  expect(rows(dry)).toEqual([[from.course, 'course_assignment', 'SUCCEEDED', '']]);
  expect(await held(from.user)).toEqual([from.course]);

  const batch = key();
  const { events: first } = await bed.events.act(() =>
    bed.api.assignments.mergeUserAssignments({ batch, fromUserId: from.user, toUserId: to }),
  );
  expect(first.map((e) => e.subject).sort()).toEqual(['assignment.course.assigned.v1', 'assignment.course.removed.v1']);
  const { result: answer, events } = await bed.events.act(() =>
    bed.api.assignments.mergeUserAssignments({ batch, fromUserId: from.user, toUserId: to }),
  );
  const again = answer.result!;
  expect(again.replayed).toBe(true);
  expect(rows(again)).toEqual([[from.course, 'course_assignment', 'SUCCEEDED', '']]);
  expect(events).toEqual([]);
  expect(await held(to)).toEqual([from.course]);
  // The same user twice is refused before anything.
  const same = await refusal(bed.api.assignments.mergeUserAssignments({ batch: key(), fromUserId: to, toUserId: to }));
  expect([same.code, same.field]).toEqual(['INVALID_ARGUMENT', 'toUserId']);
});
