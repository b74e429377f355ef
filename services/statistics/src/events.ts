import type { Emit } from '@assistants/kit';
import { CourseReset, CourseStatusChanged, CurriculumReset, CurriculumStatusChanged } from '@assistants/proto/gen/statistics/v1/events';

/** The statistics service's stream and the subjects it publishes (see events.proto). */
export const STREAM = 'STATISTICS';
export const STREAM_SUBJECTS = ['statistics.>'];

/** Typed emitters, keyed by the learner (whoever follows a learner sees them in order). */
export const events = {
  courseStatusChanged: (emit: Emit, e: CourseStatusChanged) =>
    emit('statistics.course.status-changed.v1', CourseStatusChanged.toJSON(e), `user:${e.userId}`),
  curriculumStatusChanged: (emit: Emit, e: CurriculumStatusChanged) =>
    emit('statistics.curriculum.status-changed.v1', CurriculumStatusChanged.toJSON(e), `user:${e.userId}`),
  courseReset: (emit: Emit, e: CourseReset) => emit('statistics.course.reset.v1', CourseReset.toJSON(e), `user:${e.learner!.id}`),
  curriculumReset: (emit: Emit, e: CurriculumReset) =>
    emit('statistics.curriculum.reset.v1', CurriculumReset.toJSON(e), `user:${e.learner!.id}`),
};
