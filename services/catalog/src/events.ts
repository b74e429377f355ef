import type { Emit } from '@assistants/kit';
import { Course, Lesson } from '@assistants/proto/gen/catalog/v1/courses';
import { Curriculum } from '@assistants/proto/gen/catalog/v1/curricula';
import { Session } from '@assistants/proto/gen/catalog/v1/sessions';
import { Category, Competency, Folder } from '@assistants/proto/gen/catalog/v1/structure';

/** The catalog service's stream and the subjects it publishes (see events.proto). */
export const STREAM = 'CATALOG';
export const STREAM_SUBJECTS = ['catalog.>'];

export type Change = 'created' | 'updated' | 'deleted';

/** Typed emitters: `catalog.<aggregate>.<change>.v1` with the whole object as its payload
 * (protobuf JSON), keyed by the object; a lesson's events are keyed by its course, so that
 * they keep their order with the course's. */
export const events = {
  course: (emit: Emit, change: Change, course: Course) => emit(`catalog.course.${change}.v1`, Course.toJSON(course), `course:${course.id}`),
  lesson: (emit: Emit, change: Change, lesson: Lesson) =>
    emit(`catalog.lesson.${change}.v1`, Lesson.toJSON(lesson), `course:${lesson.courseId}`),
  curriculum: (emit: Emit, change: Change, curriculum: Curriculum) =>
    emit(`catalog.curriculum.${change}.v1`, Curriculum.toJSON(curriculum), `curriculum:${curriculum.id}`),
  folder: (emit: Emit, change: Change, folder: Folder) => emit(`catalog.folder.${change}.v1`, Folder.toJSON(folder), `folder:${folder.id}`),
  category: (emit: Emit, change: Change, category: Category) =>
    emit(`catalog.category.${change}.v1`, Category.toJSON(category), `category:${category.id}`),
  competency: (emit: Emit, change: Change, competency: Competency) =>
    emit(`catalog.competency.${change}.v1`, Competency.toJSON(competency), `competency:${competency.id}`),
  /** I8's sessions: keyed by their course, as lessons. */
  session: (emit: Emit, change: 'created' | 'updated', session: Session) =>
    emit(`catalog.session.${change}.v1`, Session.toJSON(session), `course:${session.courseId}`),
};
