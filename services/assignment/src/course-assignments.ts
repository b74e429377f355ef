import type { Emit, Queryable } from '@assistants/kit';
import type { CatalogItem, Learner } from '@assistants/proto/gen/assignment/v1/events';
import {
  deleteCourseAssignments,
  insertCourseAssignments,
  lockCourseAssignments,
  lockCourseAssignmentsViaCurricula,
  rowOf,
  stateOf,
  toCourseAssignment,
  updateCourseAssignments,
  type CourseAssignmentRow,
  type CourseAssignmentState,
} from './course-assignments.repo';
import { events } from './events';
import { pairKey } from './items';
import { applyChanges, datesProblem, type AssignmentData, type DataChanges } from './values';

/*
 * The course assignments of many (user, course) pairs at once: a few statements per batch
 * (lock the existing rows, insert the new ones, update the changed ones), the decisions made
 * here in between, and one event per assignment that changed. Every action that assigns,
 * changes or removes course assignments goes through these functions (U7, U8, U10, C6, C7,
 * the courses of a curriculum, access properties).
 */

/** Where an assignment comes from. */
export type Origin =
  { kind: 'direct' } | { kind: 'curriculum'; curriculumId: string } | { kind: 'access-property'; accessPropertyId: string };

export interface CourseEnrolment {
  learner: Learner;
  course: CatalogItem;
  /** The data of a new assignment. */
  data: AssignmentData;
  origin: Origin;
  /** What changes on an assignment that exists already (curriculum dates carried over,
   * access-property dates effective immediately); otherwise it keeps its data. */
  overwrite?: DataChanges;
  notifyTemplateId: string;
  /** For the event, when it comes with a curriculum. */
  curriculum?: CatalogItem;
}

/** assigned: a new assignment; updated: an existing one whose data changed; unchanged: it
 * existed (its origins may have grown). */
export type EnrolOutcome = 'assigned' | 'updated' | 'unchanged';

/** Adds the origin; true when it was not there. */
function addOrigin(state: CourseAssignmentState, origin: Origin): boolean {
  if (origin.kind === 'direct') {
    if (state.direct) return false;
    state.direct = true;
  } else if (origin.kind === 'curriculum') {
    if (state.viaCurricula.includes(origin.curriculumId)) return false;
    state.viaCurricula = [...state.viaCurricula, origin.curriculumId];
  } else {
    if (state.viaAccessProperties.includes(origin.accessPropertyId)) return false;
    state.viaAccessProperties = [...state.viaAccessProperties, origin.accessPropertyId];
  }
  return true;
}

const accessPropertyOf = (origin: Origin): string => (origin.kind === 'access-property' ? origin.accessPropertyId : '');

function newState(e: CourseEnrolment): CourseAssignmentState {
  const state: CourseAssignmentState = {
    userId: e.learner.id,
    courseId: e.course.id,
    ...e.data,
    direct: false,
    viaCurricula: [],
    viaAccessProperties: [],
  };
  addOrigin(state, e.origin);
  return state;
}

function eventOf(row: CourseAssignmentRow, first: CourseEnrolment, changedFields: string[]) {
  return {
    assignment: toCourseAssignment(row),
    learner: first.learner,
    course: first.course,
    notifyTemplateId: first.notifyTemplateId,
    changedFields,
    curriculum: first.curriculum,
    accessPropertyId: accessPropertyOf(first.origin),
  };
}

/** Assigns courses to users: each pair gets a new assignment, or, when it has one, the
 * enrolment's origin and, when the enrolment says so, new data. One event per assignment
 * made or changed, in the order of the enrolments (keep the pairs of one course together:
 * the events of one user are published one at a time). A pair may come several times (two
 * curricula sharing a course): it is assigned once.
 *
 * New pairs are inserted first, in one statement, and only the pairs that were there
 * already are read and locked: a batch of new assignments costs one statement. */
export async function enrolCourses(tx: Queryable, emit: Emit, enrolments: CourseEnrolment[]): Promise<EnrolOutcome[]> {
  if (enrolments.length === 0) return [];
  const keys = enrolments.map((e) => pairKey(e.learner.id, e.course.id));
  const fresh = new Map<string, { state: CourseAssignmentState; first: CourseEnrolment }>();
  enrolments.forEach((e, i) => {
    const slot = fresh.get(keys[i]);
    if (!slot) fresh.set(keys[i], { state: newState(e), first: e });
    else {
      addOrigin(slot.state, e.origin);
      if (e.overwrite) slot.state = applyChanges(slot.state, e.overwrite).next;
    }
  });
  const inserted = new Map(
    (
      await insertCourseAssignments(
        tx,
        [...fresh.values()].map((s) => s.state),
      )
    ).map((r) => [pairKey(r.user_id, r.course_id), r]),
  );
  for (const [key, { state, first }] of fresh) {
    const times = inserted.get(key);
    if (times) events.courseAssigned(emit, eventOf(rowOf(state, times), first, []));
  }

  // The pairs that had an assignment: each enrolment adds its origin, and its data when it
  // overwrites.
  const existingPairs = [...fresh.entries()].filter(([key]) => !inserted.has(key)).map(([, { state }]) => state);
  const existing = new Map((await lockCourseAssignments(tx, existingPairs)).map((row) => [pairKey(row.user_id, row.course_id), row]));
  type Slot = { state: CourseAssignmentState; changed: Set<string>; originsChanged: boolean; first: CourseEnrolment };
  const slots = new Map<string, Slot>();
  const seen = new Set<string>();
  const outcomes: EnrolOutcome[] = enrolments.map((e, i) => {
    const key = keys[i];
    if (inserted.has(key)) {
      if (seen.has(key)) return 'unchanged';
      seen.add(key);
      return 'assigned';
    }
    const before = existing.get(key);
    // Removed by another transaction since the insert was tried: left alone.
    if (!before) return 'unchanged';
    let slot = slots.get(key);
    if (!slot) {
      slot = { state: stateOf(before), changed: new Set(), originsChanged: false, first: e };
      slots.set(key, slot);
    }
    slot.originsChanged = addOrigin(slot.state, e.origin) || slot.originsChanged;
    if (!e.overwrite) return 'unchanged';
    const { next, changed } = applyChanges(slot.state, e.overwrite);
    slot.state = next;
    changed.forEach((field) => slot.changed.add(field));
    return changed.length > 0 ? 'updated' : 'unchanged';
  });
  const touched = [...slots.values()].filter((s) => s.changed.size > 0 || s.originsChanged);
  const updated = new Map(
    (
      await updateCourseAssignments(
        tx,
        touched.map((s) => ({ ...s.state, touched: s.changed.size > 0 })),
      )
    ).map((r) => [pairKey(r.user_id, r.course_id), r]),
  );
  for (const [key, slot] of slots) {
    const row = updated.get(key);
    if (row && slot.changed.size > 0) events.courseUpdated(emit, eventOf(row, slot.first, [...slot.changed]));
  }
  return outcomes;
}

export interface CourseChange {
  learner: Learner;
  course: CatalogItem;
  changes: DataChanges;
  notifyTemplateId: string;
  curriculum?: CatalogItem;
}

export type ChangeOutcome =
  { kind: 'updated'; changed: string[] } | { kind: 'unchanged' } | { kind: 'not-assigned' } | { kind: 'invalid-dates'; message: string };

/** Changes the data of existing course assignments (U8, C6, a curriculum's dates carried
 * over): one event per assignment whose data changed. A change that would leave an
 * assignment's dates out of order is not made (invalid-dates). */
export async function changeCourseAssignments(tx: Queryable, emit: Emit, changes: CourseChange[]): Promise<ChangeOutcome[]> {
  if (changes.length === 0) return [];
  const keys = changes.map((c) => pairKey(c.learner.id, c.course.id));
  const unique = [...new Map(changes.map((c, i) => [keys[i], { userId: c.learner.id, courseId: c.course.id }])).values()];
  const existing = new Map((await lockCourseAssignments(tx, unique)).map((row) => [pairKey(row.user_id, row.course_id), row]));
  const slots = new Map<string, { state: CourseAssignmentState; changed: Set<string>; first: CourseChange }>();
  const outcomes: ChangeOutcome[] = changes.map((c, i) => {
    const before = existing.get(keys[i]);
    if (!before) return { kind: 'not-assigned' };
    const slot = slots.get(keys[i]) ?? { state: stateOf(before), changed: new Set<string>(), first: c };
    const { next, changed } = applyChanges(slot.state, c.changes);
    const problem = datesProblem(next);
    if (problem) return { kind: 'invalid-dates', message: `${problem.message} once changed` };
    if (changed.length === 0) return { kind: 'unchanged' };
    slot.state = next;
    changed.forEach((field) => slot.changed.add(field));
    slots.set(keys[i], slot);
    return { kind: 'updated', changed };
  });
  const rows = await updateCourseAssignments(
    tx,
    [...slots.values()].map((s) => ({ ...s.state, touched: true })),
  );
  const byKey = new Map(rows.map((r) => [pairKey(r.user_id, r.course_id), r]));
  for (const [key, slot] of slots) {
    events.courseUpdated(emit, {
      assignment: toCourseAssignment(byKey.get(key)!),
      learner: slot.first.learner,
      course: slot.first.course,
      notifyTemplateId: slot.first.notifyTemplateId,
      changedFields: [...slot.changed],
      curriculum: slot.first.curriculum,
      accessPropertyId: '',
    });
  }
  return outcomes;
}

export interface CourseRemoval {
  learner: Learner;
  course: CatalogItem;
  notifyTemplateId: string;
}

/** U10: removes course assignments, whatever brought them; one event per removal. */
export async function removeCourseAssignments(
  tx: Queryable,
  emit: Emit,
  removals: CourseRemoval[],
): Promise<('removed' | 'not-assigned')[]> {
  if (removals.length === 0) return [];
  const deleted = new Map(
    (
      await deleteCourseAssignments(
        tx,
        removals.map((r) => ({ userId: r.learner.id, courseId: r.course.id })),
      )
    ).map((row) => [pairKey(row.user_id, row.course_id), row]),
  );
  return removals.map((r) => {
    const key = pairKey(r.learner.id, r.course.id);
    const row = deleted.get(key);
    if (!row) return 'not-assigned';
    deleted.delete(key);
    events.courseRemoved(emit, {
      assignment: toCourseAssignment(row),
      learner: r.learner,
      course: r.course,
      notifyTemplateId: r.notifyTemplateId,
      changedFields: [],
      curriculum: undefined,
      accessPropertyId: '',
    });
    return 'removed';
  });
}

export interface CurriculumRelease {
  learner: Learner;
  curriculum: CatalogItem;
}

/** A curriculum assignment went (U15): the course assignments that came with it no longer
 * do. With `removeCourses`, those that nothing else holds (not assigned directly, through an
 * access property or with another curriculum) are removed; the others, and all of them
 * without `removeCourses`, stay, as the user's own when nothing else holds them. `courses`
 * names the courses in the events. Returns how many were removed. */
export async function releaseCurriculumCourses(
  tx: Queryable,
  emit: Emit,
  releases: CurriculumRelease[],
  courses: Map<string, CatalogItem>,
  removeCourses: boolean,
): Promise<number> {
  if (releases.length === 0) return 0;
  const rows = await lockCourseAssignmentsViaCurricula(
    tx,
    releases.map((r) => ({ userId: r.learner.id, curriculumId: r.curriculum.id })),
  );
  const byUser = new Map<string, CurriculumRelease[]>();
  for (const r of releases) byUser.set(r.learner.id, [...(byUser.get(r.learner.id) ?? []), r]);
  const held = (s: CourseAssignmentState) => s.direct || s.viaCurricula.length > 0 || s.viaAccessProperties.length > 0;
  const kept: CourseAssignmentState[] = [];
  const gone: { state: CourseAssignmentState; release: CurriculumRelease }[] = [];
  for (const row of rows) {
    const mine = (byUser.get(row.user_id) ?? []).filter((r) => row.via_curricula.includes(r.curriculum.id));
    if (mine.length === 0) continue;
    const released = new Set(mine.map((r) => r.curriculum.id));
    const state = { ...stateOf(row), viaCurricula: row.via_curricula.filter((id) => !released.has(id)) };
    if (removeCourses && !held(state)) gone.push({ state, release: mine[0] });
    else kept.push({ ...state, direct: held(state) ? state.direct : true });
  }
  await updateCourseAssignments(
    tx,
    kept.map((s) => ({ ...s, touched: false })),
  );
  const deleted = await deleteCourseAssignments(
    tx,
    gone.map((g) => ({ userId: g.state.userId, courseId: g.state.courseId })),
  );
  const removed = new Map(deleted.map((row) => [pairKey(row.user_id, row.course_id), row]));
  for (const { state, release } of gone) {
    const row = removed.get(pairKey(state.userId, state.courseId));
    if (!row) continue;
    events.courseRemoved(emit, {
      assignment: toCourseAssignment(row),
      learner: release.learner,
      // A course gone from the catalogue keeps its assignments: named by its id only.
      course: courses.get(row.course_id) ?? { id: row.course_id, code: '', name: '' },
      notifyTemplateId: '',
      changedFields: [],
      curriculum: release.curriculum,
      accessPropertyId: '',
    });
  }
  return removed.size;
}
