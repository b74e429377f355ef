import type { Emit } from '@assistants/kit';
import {
  AccessPropertyAdded,
  CertificateIssued,
  CourseAssignmentChanged,
  CurriculumAssignmentChanged,
  TutorAssigned,
  VisibilityChanged,
} from '@assistants/proto/gen/assignment/v1/events';
import { ObjectType } from '@assistants/proto/gen/assignment/v1/common';

/** The assignment service's stream and the subjects it publishes (see events.proto). */
export const STREAM = 'ASSIGNMENT';
export const STREAM_SUBJECTS = ['assignment.>'];

/** Typed emitters: each event's subject with its payload message and ordering key. Changes
 * to a user's assignments are keyed by the user, so that whoever mails or follows a learner
 * sees them in order. The course and curriculum assignment events travel in batches (a run
 * or an import assigns thousands at once: see EmitOptions in the kit's outbox.ts). */
const BATCH = { batch: true };

export const events = {
  courseAssigned: (emit: Emit, e: CourseAssignmentChanged) =>
    emit('assignment.course.assigned.v1', CourseAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  courseUpdated: (emit: Emit, e: CourseAssignmentChanged) =>
    emit('assignment.course.updated.v1', CourseAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  courseRemoved: (emit: Emit, e: CourseAssignmentChanged) =>
    emit('assignment.course.removed.v1', CourseAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  curriculumAssigned: (emit: Emit, e: CurriculumAssignmentChanged) =>
    emit('assignment.curriculum.assigned.v1', CurriculumAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  curriculumUpdated: (emit: Emit, e: CurriculumAssignmentChanged) =>
    emit('assignment.curriculum.updated.v1', CurriculumAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  curriculumRemoved: (emit: Emit, e: CurriculumAssignmentChanged) =>
    emit('assignment.curriculum.removed.v1', CurriculumAssignmentChanged.toJSON(e), `user:${e.assignment!.userId}`, BATCH),
  certificateIssued: (emit: Emit, e: CertificateIssued) =>
    emit('assignment.certificate.issued.v1', CertificateIssued.toJSON(e), `user:${e.certificate!.userId}`),
  tutorAssigned: (emit: Emit, e: TutorAssigned) =>
    emit('assignment.tutor.assigned.v1', TutorAssigned.toJSON(e), `user:${e.tutorship!.tutorId}`),
  accessPropertyAdded: (emit: Emit, e: AccessPropertyAdded) => {
    const p = e.accessProperty!;
    const kind = p.objectType === ObjectType.OBJECT_TYPE_CURRICULUM ? 'curriculum' : 'course';
    emit('assignment.access-property.added.v1', AccessPropertyAdded.toJSON(e), `${kind}:${p.objectId}`);
  },
  visibilityChanged: (emit: Emit, e: VisibilityChanged) =>
    emit('assignment.visibility.changed.v1', VisibilityChanged.toJSON(e), `user:${e.userId}`),
};
