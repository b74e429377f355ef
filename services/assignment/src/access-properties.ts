import { applyBatch, checkId, checkIds, type Emit, invalidArgument, type Queryable } from '@assistants/kit';
import type { AddCourseAccessPropertiesRequest, AddCurriculumAccessPropertiesRequest } from '@assistants/proto/gen/assignment/v1/access';
import { DatesMode, type AccessEnrolment } from '@assistants/proto/gen/assignment/v1/common';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import {
  addVisibility,
  lockListMembership,
  objectTypeToProto,
  toAccessProperty,
  upsertAccessProperties,
  type AccessPropertyRow,
  type AccessSettings,
  type ObjectKind,
  type Sight,
} from './access-properties.repo';
import { enrolCourses, type CourseEnrolment, type EnrolOutcome } from './course-assignments';
import { enrolCurricula, type CurriculumEnrolment } from './curriculum-assignments';
import type { Deps } from './deps';
import { events } from './events';
import { catalogItem, itemIds, pairKey, Results, toLearner, type Refusal } from './items';
import { PERMISSIONS } from './permissions';
import {
  coursesById,
  curriculaById,
  listMembers,
  requireList,
  requireRootGrant,
  usersForAction,
  type CourseInfo,
  type CurriculumInfo,
  type ListMember,
} from './upstreams';
import { checkDate, datesProblem, optionOf, type AssignmentData, type DataChanges } from './values';

/*
 * Access properties (C5, P4): a list gives a course or curriculum visibility (restricted to
 * the members of its restricting lists) and/or enrolment of its members. The members in the
 * list now are read from identity (with the instant each entered); those who enter later
 * are enrolled by list-enrolment.ts when identity's event arrives.
 *
 * Dates of an enrolment are fixed, or delays in days from the day (UTC) the user entered
 * the list. Users who enter from now on get them. "Effective immediately" gives them, now,
 * to the users already in the list too: their new assignments get them, and their existing
 * assignments of the object are given them. Without it, the users already in the list are
 * enrolled without dates and their existing assignments keep theirs.
 */

const MAX_DELAY_DAYS = 36_500;

/** The enrolment settings of an action, checked (flat field names, as the assistants send
 * them). */
export function checkEnrolment(enrolment: AccessEnrolment | undefined, kind: ObjectKind): AccessSettings {
  const e = enrolment;
  const settings: AccessSettings = {
    restrictVisibility: false,
    enrol: true,
    option: optionOf('option', e?.option) ?? 'free',
    datesMode: 'none',
    startDate: null,
    objectiveDate: null,
    endDate: null,
    startDelayDays: null,
    objectiveDelayDays: null,
    endDelayDays: null,
    effectiveImmediately: e?.effectiveImmediately ?? false,
    applyOptionToCourses: e?.applyOptionToCourses ?? false,
    carryDatesToCourses: e?.carryDatesToCourses ?? false,
  };
  if (kind === 'course') {
    if (settings.applyOptionToCourses) throw invalidArgument('applyOptionToCourses', 'applyOptionToCourses is for curricula only');
    if (settings.carryDatesToCourses) throw invalidArgument('carryDatesToCourses', 'carryDatesToCourses is for curricula only');
  }
  const delays = { startDelayDays: e?.startDelayDays, objectiveDelayDays: e?.objectiveDelayDays, endDelayDays: e?.endDelayDays };
  const dates = { startDate: e?.startDate ?? '', objectiveDate: e?.objectiveDate ?? '', endDate: e?.endDate ?? '' };
  const mode = e?.datesMode ?? DatesMode.DATES_MODE_UNSPECIFIED;
  if (mode === DatesMode.DATES_MODE_FIXED) {
    settings.datesMode = 'fixed';
    settings.startDate = checkDate('startDate', dates.startDate);
    settings.objectiveDate = checkDate('objectiveDate', dates.objectiveDate);
    settings.endDate = checkDate('endDate', dates.endDate);
    for (const [field, value] of Object.entries(delays)) {
      if (value !== undefined) throw invalidArgument(field, `${field} goes with datesMode relative`);
    }
  } else if (mode === DatesMode.DATES_MODE_RELATIVE) {
    settings.datesMode = 'relative';
    for (const [field, value] of Object.entries(delays)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > MAX_DELAY_DAYS)) {
        throw invalidArgument(field, `${field} must be a number of days from 0 to ${MAX_DELAY_DAYS}`);
      }
    }
    settings.startDelayDays = delays.startDelayDays ?? null;
    settings.objectiveDelayDays = delays.objectiveDelayDays ?? null;
    settings.endDelayDays = delays.endDelayDays ?? null;
    for (const [field, value] of Object.entries(dates)) {
      if (value !== '') throw invalidArgument(field, `${field} goes with datesMode fixed`);
    }
  } else if (mode !== DatesMode.DATES_MODE_UNSPECIFIED) {
    throw invalidArgument('datesMode', 'datesMode must be none, fixed or relative');
  } else {
    for (const [field, value] of [...Object.entries(dates), ...Object.entries(delays)]) {
      if (value !== '' && value !== undefined) throw invalidArgument(field, `${field} needs datesMode fixed or relative`);
    }
  }
  // Delays are in order exactly when the dates they give are (same entry day for all).
  const day = (n: number | null) => (n === null ? null : addDays('2000-01-01', n));
  const problem =
    settings.datesMode === 'relative'
      ? datesProblem({
          startDate: day(settings.startDelayDays),
          objectiveDate: day(settings.objectiveDelayDays),
          endDate: day(settings.endDelayDays),
        })
      : datesProblem(settings);
  if (problem) {
    const field = settings.datesMode === 'relative' ? problem.field.replace('Date', 'DelayDays') : problem.field;
    throw invalidArgument(field, settings.datesMode === 'relative' ? `${field} is out of order with the other delays` : problem.message);
  }
  return settings;
}

/** "YYYY-MM-DD" plus n days. */
export function addDays(day: string, n: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}

type Dates = Pick<AssignmentData, 'startDate' | 'objectiveDate' | 'endDate'>;

/** The dates an access property gives a user who entered its list at `enteredAt` (RFC
 * 3339); null when it gives none. */
export function datesFor(
  p: Pick<
    AccessPropertyRow,
    'dates_mode' | 'start_date' | 'objective_date' | 'end_date' | 'start_delay_days' | 'objective_delay_days' | 'end_delay_days'
  >,
  enteredAt: string,
): Dates | null {
  if (p.dates_mode === 'fixed') return { startDate: p.start_date, objectiveDate: p.objective_date, endDate: p.end_date };
  if (p.dates_mode !== 'relative') return null;
  const day = new Date(enteredAt).toISOString().slice(0, 10);
  const after = (n: number | null) => (n === null ? null : addDays(day, n));
  return { startDate: after(p.start_delay_days), objectiveDate: after(p.objective_delay_days), endDate: after(p.end_delay_days) };
}

const NO_DATES: Dates = { startDate: null, objectiveDate: null, endDate: null };

/** What an access property enrols a member with. `current`: the member was in the list when
 * the property was added (dates only when effective immediately, and then onto existing
 * assignments too); otherwise the member has just entered. */
function memberEnrolment(p: AccessPropertyRow, member: ListMember, current: boolean): { data: AssignmentData; overwrite?: DataChanges } {
  const dates = datesFor(p, member.enteredAt);
  const given = dates && (!current || p.effective_immediately) ? dates : null;
  return {
    data: { ...(given ?? NO_DATES), option: p.option, paymentMode: '', paymentCode: '', unitCost: null },
    overwrite: given && current ? { ...given } : undefined,
  };
}

/** The enrolments an access property makes for these members. */
export function courseEnrolmentsOf(
  p: AccessPropertyRow,
  course: CourseInfo,
  members: { member: ListMember; user: UserForAction }[],
  current: boolean,
): CourseEnrolment[] {
  return members.map(({ member, user }) => ({
    learner: toLearner(user),
    course: catalogItem(course),
    ...memberEnrolment(p, member, current),
    origin: { kind: 'access-property', accessPropertyId: p.id },
    notifyTemplateId: '',
  }));
}

export function curriculumEnrolmentsOf(
  p: AccessPropertyRow,
  curriculum: CurriculumInfo,
  members: { member: ListMember; user: UserForAction }[],
  current: boolean,
): CurriculumEnrolment[] {
  return members.map(({ member, user }) => {
    const { data, overwrite } = memberEnrolment(p, member, current);
    return {
      learner: toLearner(user),
      curriculum,
      data: { startDate: data.startDate, objectiveDate: data.objectiveDate, endDate: data.endDate, option: data.option },
      origin: { kind: 'access-property', accessPropertyId: p.id },
      overwrite,
      carry: { dates: p.carry_dates_to_courses, option: p.apply_option_to_courses },
      notifyTemplateId: '',
    };
  });
}

/** Records who sees what through restricting properties, and emits each user's change;
 * returns the (user, object) pairs that became visible. */
export async function grantVisibility(tx: Queryable, emit: Emit, sights: Sight[]): Promise<Sight[]> {
  const fresh = await addVisibility(tx, sights);
  for (const s of fresh) {
    events.visibilityChanged(emit, {
      userId: s.userId,
      objectType: objectTypeToProto(s.objectType),
      objectId: s.objectId,
      visible: true,
      listId: s.listId,
    });
  }
  return fresh;
}

type Member = { member: ListMember; user: UserForAction };
type Counts = { assigned: number; updated: number; visible: number };

/** Visibility and enrolment of the members of the properties' lists, a few statements for
 * all of them: what each property did, by (object, list). */
async function applyToMembers(
  tx: Queryable,
  emit: Emit,
  kind: ObjectKind,
  properties: AccessPropertyRow[],
  members: Map<string, Member[]>,
  enrolAll: (made: { property: AccessPropertyRow; list: Member[] }[]) => Promise<{ property: AccessPropertyRow; outcome: EnrolOutcome }[]>,
): Promise<Map<string, Counts>> {
  const counts = new Map(properties.map((p) => [pairKey(p.object_id, p.list_id), { assigned: 0, updated: 0, visible: 0 }]));
  const sights = properties
    .filter((p) => p.restrict_visibility)
    .flatMap((p) =>
      (members.get(p.list_id) ?? []).map(({ member }) => ({
        userId: member.userId,
        objectType: kind,
        objectId: p.object_id,
        listId: p.list_id,
      })),
    );
  for (const s of await grantVisibility(tx, emit, sights)) counts.get(pairKey(s.objectId, s.listId))!.visible++;
  const enrolling = properties.filter((p) => p.enrol).map((property) => ({ property, list: members.get(property.list_id) ?? [] }));
  for (const { property, outcome } of await enrolAll(enrolling)) {
    const c = counts.get(pairKey(property.object_id, property.list_id))!;
    if (outcome === 'assigned') c.assigned++;
    if (outcome === 'updated') c.updated++;
  }
  return counts;
}

/** Each enrolment made, with the property that made it, in order. */
function flatten<E>(made: { property: AccessPropertyRow; enrolments: E[] }[]) {
  return {
    enrolments: made.flatMap((m) => m.enrolments),
    owners: made.flatMap((m) => m.enrolments.map(() => m.property)),
  };
}

/** Checks the acting user's right, the settings and the lists: before any item. */
async function checkRequest(
  deps: Deps,
  actorId: string,
  kind: ObjectKind,
  req: { restrictVisibility: boolean; enrol: boolean; enrolment?: AccessEnrolment },
  lists: { id: string; field: string }[],
): Promise<AccessSettings> {
  const { identity } = deps.upstreams;
  await requireRootGrant(identity, actorId, PERMISSIONS.accessProperties);
  if (!req.restrictVisibility && !req.enrol) throw invalidArgument('restrictVisibility', 'give restrictVisibility and/or enrol');
  const settings: AccessSettings = req.enrol
    ? { ...checkEnrolment(req.enrolment, kind), restrictVisibility: req.restrictVisibility }
    : { ...checkEnrolment(undefined, kind), enrol: false, restrictVisibility: true };
  for (const list of lists) await requireList(identity, list.id, list.field);
  return settings;
}

interface Members {
  /** Just before the members were read. */
  membersReadAt: Date;
  /** By list: its members now, known to identity. */
  members: Map<string, Member[]>;
}

/**
 * Reads the lists' members (with the users an enrolment event needs), once for the batch, in
 * the batch's transaction and under the lists' membership lock: an entry in a list is then
 * either among the members read here, or handled by list-enrolment.ts after this batch has
 * committed its properties. (Read before the transaction, a user entering the list in
 * between was handled while the property was not there yet, and never enrolled.)
 */
async function readMembers(deps: Deps, tx: Queryable, settings: AccessSettings, listIds: string[]): Promise<Members> {
  const { identity } = deps.upstreams;
  await lockListMembership(tx, listIds, 'shared');
  const members = new Map<string, Member[]>();
  const membersReadAt = new Date();
  const byList = new Map<string, ListMember[]>();
  for (const listId of listIds) byList.set(listId, await listMembers(identity, listId));
  const userIds = [...new Set([...byList.values()].flat().map((m) => m.userId))];
  const users = settings.enrol && userIds.length > 0 ? await usersForAction(identity, userIds, PERMISSIONS.accessProperties) : new Map();
  for (const [listId, list] of byList) {
    members.set(
      listId,
      list.flatMap((member) => {
        // Visibility needs the id only; an enrolment event needs the user.
        if (!settings.enrol) return [{ member, user: { id: member.userId } as UserForAction }];
        const user = users.get(member.userId);
        return user?.found && user.inScope ? [{ member, user }] : [];
      }),
    );
  }
  return { membersReadAt, members };
}

function describe(counts: Counts, settings: AccessSettings): string {
  const parts: string[] = [];
  if (settings.enrol) parts.push(`${counts.assigned} enrolled`, `${counts.updated} assignment(s) given the dates`);
  if (settings.restrictVisibility) parts.push(`visible to ${counts.visible} more user(s)`);
  return parts.join(', ');
}

/** C5: adds the access property of each list to the selected courses (one result per course
 * and list). */
export async function addCourseAccessProperties(deps: Deps, actorId: string, req: AddCourseAccessPropertiesRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const listIds = checkIds('listIds', req.listIds, { required: true });
  const courseIds = itemIds(req.courseIds);
  const lists = listIds.map((id, i) => ({ id, field: `listIds[${i}]` }));
  const settings = await checkRequest(deps, actorId, 'course', req, lists);
  if (courseIds.length === 0) return applyBatch(deps.outbox, batch, request, async () => []);
  const courses = await coursesById(deps.upstreams.catalog, courseIds);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const { membersReadAt, members } = await readMembers(deps, tx, settings, listIds);
    const results = new Results(courseIds, listIds);
    const accepted: CourseInfo[] = [];
    for (const courseId of courseIds) {
      const course = courses.get(courseId);
      const refusal: Refusal | null = !course
        ? { code: 'NOT_FOUND', message: 'no such course' }
        : settings.enrol && course.disabled
          ? { code: 'COURSE_DISABLED', message: `course ${course.code} is disabled: its learners cannot be enrolled` }
          : null;
      if (refusal) listIds.forEach((listId) => results.failed(courseId, listId, refusal));
      else accepted.push(course!);
    }
    const targets = accepted.flatMap((c) => listIds.map((listId) => ({ objectId: c.id, listId })));
    const properties = await upsertAccessProperties(tx, 'course', targets, settings, actorId, membersReadAt);
    for (const p of properties) {
      events.accessPropertyAdded(emit, {
        accessProperty: toAccessProperty(p),
        object: catalogItem(courses.get(p.object_id)!),
        created: p.created,
      });
    }
    const counts = await applyToMembers(tx, emit, 'course', properties, members, async (made) => {
      const { enrolments, owners } = flatten(
        made.map(({ property, list }) => ({
          property,
          enrolments: courseEnrolmentsOf(property, courses.get(property.object_id)!, list, true),
        })),
      );
      const outcomes = await enrolCourses(tx, emit, enrolments);
      return outcomes.map((outcome, i) => ({ property: owners[i], outcome }));
    });
    for (const p of properties) results.succeeded(p.object_id, p.list_id, describe(counts.get(pairKey(p.object_id, p.list_id))!, settings));
    return results.list();
  });
}

/** P4: adds the access property of the list to the selected curricula (one result per
 * curriculum). */
export async function addCurriculumAccessProperties(
  deps: Deps,
  actorId: string,
  req: AddCurriculumAccessPropertiesRequest,
): Promise<BatchResult> {
  const { batch, ...request } = req;
  const listId = checkId('listId', req.listId);
  const curriculumIds = itemIds(req.curriculumIds);
  const settings = await checkRequest(deps, actorId, 'curriculum', req, [{ id: listId, field: 'listId' }]);
  if (curriculumIds.length === 0) return applyBatch(deps.outbox, batch, request, async () => []);
  const curricula = await curriculaById(deps.upstreams.catalog, curriculumIds);
  const courses = await coursesById(deps.upstreams.catalog, [...new Set([...curricula.values()].flatMap((c) => c.courseIds))]);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const { membersReadAt, members } = await readMembers(deps, tx, settings, [listId]);
    const results = new Results(curriculumIds, [listId]);
    const accepted: CurriculumInfo[] = [];
    for (const curriculumId of curriculumIds) {
      const curriculum = curricula.get(curriculumId);
      if (!curriculum) results.failed(curriculumId, listId, { code: 'NOT_FOUND', message: 'no such curriculum' });
      else if (settings.enrol && curriculum.disabled) {
        results.failed(curriculumId, listId, { code: 'CURRICULUM_DISABLED', message: `curriculum ${curriculum.code} is disabled` });
      } else accepted.push(curriculum);
    }
    const properties = await upsertAccessProperties(
      tx,
      'curriculum',
      accepted.map((c) => ({ objectId: c.id, listId })),
      settings,
      actorId,
      membersReadAt,
    );
    for (const p of properties) {
      events.accessPropertyAdded(emit, {
        accessProperty: toAccessProperty(p),
        object: catalogItem(curricula.get(p.object_id)!),
        created: p.created,
      });
    }
    const counts = await applyToMembers(tx, emit, 'curriculum', properties, members, async (made) => {
      const { enrolments, owners } = flatten(
        made.map(({ property, list }) => ({
          property,
          enrolments: curriculumEnrolmentsOf(property, curricula.get(property.object_id)!, list, true),
        })),
      );
      const outcomes = await enrolCurricula(tx, emit, enrolments, courses);
      return outcomes.map((outcome, i) => ({ property: owners[i], outcome }));
    });
    for (const p of properties) results.succeeded(p.object_id, p.list_id, describe(counts.get(pairKey(p.object_id, p.list_id))!, settings));
    return results.list();
  });
}
