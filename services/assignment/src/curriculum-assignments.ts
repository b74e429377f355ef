import type { Emit, Queryable } from '@assistants/kit';
import type { Learner } from '@assistants/proto/gen/assignment/v1/events';
import {
  changeCourseAssignments,
  enrolCourses,
  releaseCurriculumCourses,
  type ChangeOutcome,
  type CourseChange,
  type CourseEnrolment,
  type EnrolOutcome,
} from './course-assignments';
import {
  curriculumStateOf,
  deleteCurriculumAssignments,
  insertCurriculumAssignments,
  lockCurriculumAssignments,
  toCurriculumAssignment,
  updateCurriculumAssignments,
  type CurriculumAssignmentRow,
  type CurriculumAssignmentState,
} from './curriculum-assignments.repo';
import { events } from './events';
import { catalogItem, pairKey } from './items';
import type { CourseInfo, CurriculumInfo } from './upstreams';
import { applyChanges, datesProblem, type DataChanges, type Option } from './values';

/*
 * Curriculum assignments, and the course assignments that come with them: a curriculum
 * assignment assigns its courses (those of the catalogue that are not disabled; the
 * curriculum's audiences decide, not its courses'), and when asked carries its dates and
 * option onto the user's assignments of its courses, new and existing.
 */

export interface CurriculumData {
  startDate: string | null;
  objectiveDate: string | null;
  endDate: string | null;
  option: Option;
}

/** What goes onto the assignments of a curriculum's courses. */
export interface CarryOver {
  dates: boolean;
  option: boolean;
}

export type CurriculumOrigin = { kind: 'direct' } | { kind: 'access-property'; accessPropertyId: string };

export interface CurriculumEnrolment {
  learner: Learner;
  curriculum: CurriculumInfo;
  data: CurriculumData;
  origin: CurriculumOrigin;
  /** What changes on a curriculum assignment that exists already (access-property dates
   * effective immediately); it keeps its data otherwise. */
  overwrite?: DataChanges;
  carry: CarryOver;
  notifyTemplateId: string;
}

/** The data a course assignment takes from its curriculum's: carried dates and option, or
 * none and FREE. */
function courseDataFrom(data: CurriculumData, carry: CarryOver) {
  return {
    startDate: carry.dates ? data.startDate : null,
    objectiveDate: carry.dates ? data.objectiveDate : null,
    endDate: carry.dates ? data.endDate : null,
    option: carry.option ? data.option : ('free' as Option),
    paymentMode: '' as const,
    paymentCode: '',
    unitCost: null,
  };
}

/** What carrying over writes onto an existing course assignment. */
function carriedChanges(data: CurriculumData, carry: CarryOver): DataChanges | undefined {
  if (!carry.dates && !carry.option) return undefined;
  return {
    ...(carry.dates ? { startDate: data.startDate, objectiveDate: data.objectiveDate, endDate: data.endDate } : {}),
    ...(carry.option ? { option: data.option } : {}),
  };
}

const dataOf = (s: CurriculumAssignmentState): CurriculumData => ({
  startDate: s.startDate,
  objectiveDate: s.objectiveDate,
  endDate: s.endDate,
  option: s.option,
});

/** Assigns curricula to users, and their courses. Outcomes as enrolCourses's, for the
 * curriculum assignments. */
export async function enrolCurricula(
  tx: Queryable,
  emit: Emit,
  enrolments: CurriculumEnrolment[],
  courses: Map<string, CourseInfo>,
): Promise<EnrolOutcome[]> {
  if (enrolments.length === 0) return [];
  const keys = enrolments.map((e) => pairKey(e.learner.id, e.curriculum.id));
  const unique = [...new Map(enrolments.map((e, i) => [keys[i], { userId: e.learner.id, curriculumId: e.curriculum.id }])).values()];
  const existing = new Map((await lockCurriculumAssignments(tx, unique)).map((r) => [pairKey(r.user_id, r.curriculum_id), r]));
  type Slot = {
    state: CurriculumAssignmentState;
    before?: CurriculumAssignmentRow;
    changed: Set<string>;
    originsChanged: boolean;
    first: CurriculumEnrolment;
  };
  const slots = new Map<string, Slot>();
  const outcomes: EnrolOutcome[] = enrolments.map((e, i) => {
    let slot = slots.get(keys[i]);
    if (!slot) {
      const before = existing.get(keys[i]);
      slot = before
        ? { state: curriculumStateOf(before), before, changed: new Set(), originsChanged: false, first: e }
        : {
            state: { userId: e.learner.id, curriculumId: e.curriculum.id, ...e.data, direct: false, viaAccessProperties: [] },
            changed: new Set(),
            originsChanged: false,
            first: e,
          };
      slots.set(keys[i], slot);
    }
    const s = slot.state;
    if (e.origin.kind === 'direct' && !s.direct) slot.originsChanged = s.direct = true;
    if (e.origin.kind === 'access-property' && !s.viaAccessProperties.includes(e.origin.accessPropertyId)) {
      s.viaAccessProperties = [...s.viaAccessProperties, e.origin.accessPropertyId];
      slot.originsChanged = true;
    }
    if (!slot.before) return slot.first === e ? 'assigned' : 'unchanged';
    if (!e.overwrite) return 'unchanged';
    const { next, changed } = applyChanges(slot.state, e.overwrite);
    slot.state = next;
    changed.forEach((field) => slot.changed.add(field));
    return changed.length > 0 ? 'updated' : 'unchanged';
  });

  const all = [...slots.values()];
  const inserted = new Map(
    (
      await insertCurriculumAssignments(
        tx,
        all.filter((s) => !s.before).map((s) => s.state),
      )
    ).map((r) => [pairKey(r.user_id, r.curriculum_id), r]),
  );
  const updated = new Map(
    (
      await updateCurriculumAssignments(
        tx,
        all.filter((s) => s.before && (s.changed.size > 0 || s.originsChanged)).map((s) => ({ ...s.state, touched: s.changed.size > 0 })),
      )
    ).map((r) => [pairKey(r.user_id, r.curriculum_id), r]),
  );

  const courseEnrolments: CourseEnrolment[] = [];
  const courseChanges: CourseChange[] = [];
  for (const [key, slot] of slots) {
    const { learner, curriculum, notifyTemplateId, origin, carry } = slot.first;
    const row = slot.before ? updated.get(key) : inserted.get(key);
    if (!row || (slot.before && slot.changed.size === 0)) continue;
    const payload = {
      assignment: toCurriculumAssignment(row),
      learner,
      curriculum: catalogItem(curriculum),
      notifyTemplateId,
      changedFields: slot.before ? [...slot.changed] : [],
      accessPropertyId: origin.kind === 'access-property' ? origin.accessPropertyId : '',
    };
    const data = dataOf(curriculumStateOf(row));
    const curriculumCourses = curriculum.courseIds.flatMap((id) => {
      const course = courses.get(id);
      return course && !course.disabled ? [course] : [];
    });
    if (slot.before) {
      events.curriculumUpdated(emit, payload);
      const overwrite = carriedChanges(data, carry);
      if (overwrite) {
        for (const course of curriculumCourses) {
          courseChanges.push({
            learner,
            course: catalogItem(course),
            changes: overwrite,
            notifyTemplateId: '',
            curriculum: payload.curriculum,
          });
        }
      }
    } else {
      events.curriculumAssigned(emit, payload);
      for (const course of curriculumCourses) {
        courseEnrolments.push({
          learner,
          course: catalogItem(course),
          data: courseDataFrom(data, carry),
          origin: { kind: 'curriculum', curriculumId: curriculum.id },
          overwrite: carriedChanges(data, carry),
          notifyTemplateId: '',
          curriculum: payload.curriculum,
        });
      }
    }
  }
  await enrolCourses(tx, emit, courseEnrolments);
  await changeCourseAssignments(tx, emit, courseChanges);
  return outcomes.map((outcome, i) => (outcome === 'assigned' && !inserted.has(keys[i]) ? 'unchanged' : outcome));
}

export interface CurriculumChange {
  learner: Learner;
  curriculum: CurriculumInfo;
  changes: DataChanges;
  carry: CarryOver;
  notifyTemplateId: string;
}

/** updated: the curriculum assignment changed and/or course assignments took its dates or
 * option (coursesChanged). */
export type CurriculumChangeOutcome =
  | { kind: 'updated'; changed: string[]; coursesChanged: number }
  | { kind: 'unchanged' }
  | { kind: 'not-assigned' }
  | { kind: 'invalid-dates'; message: string };

/** U13: changes the data of curriculum assignments; with carry-over, the curriculum's
 * dates (all three, as they are once changed) and/or option go onto the user's existing
 * assignments of its courses. */
export async function changeCurriculumAssignments(
  tx: Queryable,
  emit: Emit,
  changes: CurriculumChange[],
  courses: Map<string, CourseInfo>,
): Promise<CurriculumChangeOutcome[]> {
  if (changes.length === 0) return [];
  const keys = changes.map((c) => pairKey(c.learner.id, c.curriculum.id));
  const existing = new Map(
    (
      await lockCurriculumAssignments(
        tx,
        changes.map((c) => ({ userId: c.learner.id, curriculumId: c.curriculum.id })),
      )
    ).map((r) => [pairKey(r.user_id, r.curriculum_id), r]),
  );
  const decided = changes.map((c, i) => {
    const before = existing.get(keys[i]);
    if (!before) return { kind: 'not-assigned' as const };
    const { next, changed } = applyChanges(curriculumStateOf(before), c.changes);
    const problem = datesProblem(next);
    if (problem) return { kind: 'invalid-dates' as const, message: `${problem.message} once changed` };
    return { kind: 'ok' as const, next, changed };
  });
  const rows = await updateCurriculumAssignments(
    tx,
    decided.flatMap((d) => (d.kind === 'ok' && d.changed.length > 0 ? [{ ...d.next, touched: true }] : [])),
  );
  const byKey = new Map(rows.map((r) => [pairKey(r.user_id, r.curriculum_id), r]));
  const courseChanges: { index: number; change: CourseChange }[] = [];
  changes.forEach((c, i) => {
    const d = decided[i];
    if (d.kind !== 'ok') return;
    const row = byKey.get(keys[i]);
    if (row) {
      events.curriculumUpdated(emit, {
        assignment: toCurriculumAssignment(row),
        learner: c.learner,
        curriculum: catalogItem(c.curriculum),
        notifyTemplateId: c.notifyTemplateId,
        changedFields: d.changed,
        accessPropertyId: '',
      });
    }
    const overwrite = carriedChanges(dataOf(d.next), c.carry);
    if (!overwrite) return;
    for (const id of c.curriculum.courseIds) {
      const course = courses.get(id);
      if (!course) continue;
      courseChanges.push({
        index: i,
        change: {
          learner: c.learner,
          course: catalogItem(course),
          changes: overwrite,
          notifyTemplateId: '',
          curriculum: catalogItem(c.curriculum),
        },
      });
    }
  });
  const courseOutcomes: ChangeOutcome[] = await changeCourseAssignments(
    tx,
    emit,
    courseChanges.map((c) => c.change),
  );
  const coursesChanged = new Array<number>(changes.length).fill(0);
  courseOutcomes.forEach((o, j) => {
    if (o.kind === 'updated') coursesChanged[courseChanges[j].index]++;
  });
  return decided.map((d, i) => {
    if (d.kind !== 'ok') return d;
    if (d.changed.length === 0 && coursesChanged[i] === 0) return { kind: 'unchanged' };
    return { kind: 'updated', changed: d.changed, coursesChanged: coursesChanged[i] };
  });
}

export interface CurriculumRemoval {
  learner: Learner;
  curriculum: CurriculumInfo;
  notifyTemplateId: string;
}

/** U15: removes curriculum assignments; their courses' assignments no longer come with
 * them, and with `removeCourses` those nothing else holds go too. */
export async function removeCurriculumAssignments(
  tx: Queryable,
  emit: Emit,
  removals: CurriculumRemoval[],
  courses: Map<string, CourseInfo>,
  removeCourses: boolean,
): Promise<{ outcome: 'removed' | 'not-assigned' }[]> {
  if (removals.length === 0) return [];
  const deleted = new Map(
    (
      await deleteCurriculumAssignments(
        tx,
        removals.map((r) => ({ userId: r.learner.id, curriculumId: r.curriculum.id })),
      )
    ).map((r) => [pairKey(r.user_id, r.curriculum_id), r]),
  );
  const released = removals.filter((r) => deleted.has(pairKey(r.learner.id, r.curriculum.id)));
  for (const r of released) {
    events.curriculumRemoved(emit, {
      assignment: toCurriculumAssignment(deleted.get(pairKey(r.learner.id, r.curriculum.id))!),
      learner: r.learner,
      curriculum: catalogItem(r.curriculum),
      notifyTemplateId: r.notifyTemplateId,
      changedFields: [],
      accessPropertyId: '',
    });
  }
  const courseItems = new Map([...courses.values()].map((c) => [c.id, catalogItem(c)]));
  await releaseCurriculumCourses(
    tx,
    emit,
    released.map((r) => ({ learner: r.learner, curriculum: catalogItem(r.curriculum) })),
    courseItems,
    removeCourses,
  );
  return removals.map((r) => ({ outcome: deleted.has(pairKey(r.learner.id, r.curriculum.id)) ? 'removed' : 'not-assigned' }));
}
