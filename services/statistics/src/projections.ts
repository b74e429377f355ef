import type { ConsumerDefinition, DeliveredEvent, Emit, EventEnvelope, Queryable } from '@assistants/kit';
import { assignmentOptionToJSON, type AssignmentOption } from '@assistants/proto/gen/assignment/v1/common';
import { CourseAssignmentChanged, CurriculumAssignmentChanged } from '@assistants/proto/gen/assignment/v1/events';
import { Course } from '@assistants/proto/gen/catalog/v1/courses';
import { Curriculum } from '@assistants/proto/gen/catalog/v1/curricula';
import { followCurriculaOf } from './follow';
import {
  markAssignmentsRemoved,
  upsertAssignments,
  upsertCourse,
  upsertCurriculum,
  type AssignmentCopy,
  type CourseCopy,
} from './projections.repo';
import { applyStructureEvent } from './export/projections';
import { customFields, idOrNull, lessonTypeOf } from './values';

/*
 * What the statistics service keeps of other services, from their events (it reads no other
 * service's tables): the catalogue's courses with their lessons (types, optional) and
 * curricula with their courses, and the course and curriculum assignments. The kit claims
 * each event in the handler's transaction: a redelivered event is not applied twice.
 */

export const CATALOG_PROJECTION_DURABLE = 'statistics-catalog';
export const ASSIGNMENT_PROJECTION_DURABLE = 'statistics-assignments';
/** The streams it consumes (see proto/catalog/v1/events.proto, proto/assignment/v1/events.proto). */
export const CONSUMED_STREAMS = [
  { name: 'CATALOG', subjects: ['catalog.>'] },
  { name: 'ASSIGNMENT', subjects: ['assignment.>'] },
  // For the export's users, organisations and audiences (export/projections.ts).
  { name: 'IDENTITY', subjects: ['identity.>'] },
];

/** A catalog course as this service keeps it. */
export function courseCopy(course: Course, deleted: boolean): CourseCopy {
  return {
    id: course.id.toLowerCase(),
    code: course.code,
    name: course.name,
    externalTraining: course.externalTraining,
    disabled: course.disabled,
    folderId: idOrNull(course.folderId),
    categoryId: idOrNull(course.categoryId),
    custom: customFields(course),
    deleted,
    version: course.updatedAt || new Date(0).toISOString(),
    lessons: course.lessons.map((l) => ({
      id: l.id.toLowerCase(),
      code: l.code,
      name: l.name,
      type: lessonTypeOf(l.type),
      position: l.position,
      optional: l.optional,
    })),
  };
}

/** catalog.course.* (the course with its lessons; a lesson's change comes as the course's
 * updated.v1 too), catalog.curriculum.*, and for the export catalog.folder.* and
 * catalog.category.*; the rest of the stream is not this service's. A curriculum
 * whose courses changed has its learners' statuses follow at once; a course's lessons changing apply at each learner's next change (README). */
export function catalogProjectionConsumer(): ConsumerDefinition {
  return {
    stream: CONSUMED_STREAMS[0].name,
    durable: CATALOG_PROJECTION_DURABLE,
    subject: 'catalog.>',
    handler: async (event, { tx, emit }) => {
      const match = /^catalog\.(course|curriculum|folder|category)\.(created|updated|deleted)\.v1$/.exec(event.subject);
      if (!match) return;
      const deleted = match[2] === 'deleted';
      if (match[1] === 'folder' || match[1] === 'category') await applyStructureEvent(tx, match[1], deleted, event.data);
      else if (match[1] === 'course') await upsertCourse(tx, courseCopy(Course.fromJSON(event.data), deleted));
      else {
        const c = Curriculum.fromJSON(event.data);
        const holders = await upsertCurriculum(tx, {
          id: c.id.toLowerCase(),
          code: c.code,
          name: c.name,
          courseIds: c.courseIds.map((id) => id.toLowerCase()),
          disabled: c.disabled,
          folderId: idOrNull(c.folderId),
          custom: customFields(c),
          deleted,
          version: c.updatedAt || new Date(0).toISOString(),
        });
        // Its learners' status follows its courses (a course added or taken away; an
        // assignment seen before the curriculum itself).
        const curriculumId = c.id.toLowerCase();
        await followCurriculaOf(
          tx,
          emit,
          holders.map((userId) => ({ userId, curriculumId })),
          'catalog',
        );
      }
    },
  };
}

const optionName = (o: AssignmentOption) => assignmentOptionToJSON(o).replace('ASSIGNMENT_OPTION_', '').toLowerCase();

interface Assignment {
  userId: string;
  startDate: string;
  objectiveDate: string;
  endDate: string;
  option: AssignmentOption;
  assignedAt: string;
  updatedAt: string;
}

function copyOf(a: Assignment, objectId: string): AssignmentCopy {
  return {
    userId: a.userId.toLowerCase(),
    objectId: objectId.toLowerCase(),
    startDate: a.startDate || null,
    objectiveDate: a.objectiveDate || null,
    endDate: a.endDate || null,
    option: optionName(a.option),
    assignedAt: a.assignedAt || new Date().toISOString(),
    updatedAt: a.updatedAt || new Date().toISOString(),
  };
}

/** Applies a run of events of one kind and verb at once, keeping the stream order between
 * runs (an assignment removed then made again ends assigned). */
async function applyAssignmentEvents(tx: Queryable, emit: Emit, events: EventEnvelope[]): Promise<void> {
  let pending: { kind: 'course' | 'curriculum'; removed: boolean; rows: AssignmentCopy[] } | undefined;
  const flush = async () => {
    if (!pending) return;
    if (pending.removed) await markAssignmentsRemoved(tx, pending.kind, pending.rows);
    else {
      await upsertAssignments(tx, pending.kind, pending.rows);
      // A curriculum starts where its courses are (not started unless some were done already).
      if (pending.kind === 'curriculum') {
        const pairs = pending.rows.map((r) => ({ userId: r.userId, curriculumId: r.objectId }));
        await followCurriculaOf(tx, emit, pairs, 'assignment');
      }
    }
    pending = undefined;
  };
  for (const event of events) {
    const match = /^assignment\.(course|curriculum)\.(assigned|updated|removed)\.v1$/.exec(event.subject);
    if (!match) continue;
    const kind = match[1] as 'course' | 'curriculum';
    const removed = match[2] === 'removed';
    let row: AssignmentCopy | undefined;
    if (kind === 'course') {
      const e = CourseAssignmentChanged.fromJSON(event.data);
      if (e.assignment) row = copyOf(e.assignment, e.assignment.courseId);
    } else {
      const e = CurriculumAssignmentChanged.fromJSON(event.data);
      if (e.assignment) row = copyOf(e.assignment, e.assignment.curriculumId);
    }
    if (!row) continue;
    if (pending && (pending.kind !== kind || pending.removed !== removed)) await flush();
    pending ??= { kind, removed, rows: [] };
    pending.rows.push(row);
  }
  await flush();
}

/** assignment.course.* and assignment.curriculum.*: a new assignment starts "not started"; a
 * removed one is kept as history (removed_at) and not shown. A 50,000-learner run is 50,000
 * events: they are handled in groups, a few statements per group. */
export function assignmentProjectionConsumer(): ConsumerDefinition {
  return {
    stream: CONSUMED_STREAMS[1].name,
    durable: ASSIGNMENT_PROJECTION_DURABLE,
    subject: 'assignment.>',
    prefetch: 64,
    groupHandler: async (delivered: DeliveredEvent[], { tx, emit }) =>
      applyAssignmentEvents(
        tx,
        emit,
        delivered.map((d) => d.event),
      ),
  };
}
