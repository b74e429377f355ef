import { LessonType, type Course, type Lesson, type LessonFields } from '@assistants/proto/gen/catalog/v1/courses';
import { FolderKind, type Folder } from '@assistants/proto/gen/catalog/v1/structure';
import type { LESSON_TYPES } from './schemas/catalog';

/** How the API shows catalogue objects: lesson types as their letter, folder kinds as words,
 * a course's settings next to its other fields (as a request sets them). */

type LessonLetter = (typeof LESSON_TYPES)[number];

const LESSON_TYPE: Record<LessonLetter, LessonType> = {
  A: LessonType.LESSON_TYPE_A,
  L: LessonType.LESSON_TYPE_L,
  W: LessonType.LESSON_TYPE_W,
  T: LessonType.LESSON_TYPE_T,
  E: LessonType.LESSON_TYPE_E,
};

export const lessonType = (letter: LessonLetter | undefined): LessonType =>
  letter === undefined ? LessonType.LESSON_TYPE_UNSPECIFIED : LESSON_TYPE[letter];

const letterOf = (type: LessonType): string => Object.entries(LESSON_TYPE).find(([, t]) => t === type)?.[0] ?? '';

export function toHttpLesson(lesson: Lesson) {
  return { ...lesson, type: letterOf(lesson.type) };
}

export function toHttpCourse(course: Course) {
  const { settings, lessons, ...fields } = course;
  return { ...fields, ...settings!, lessons: lessons.map(toHttpLesson) };
}

/** HTTP lesson fields (type as a letter) as the contract's. */
export function toLessonFields<T extends { type?: LessonLetter }>(fields: T): LessonFields {
  return { ...fields, type: lessonType(fields.type) };
}

export const FOLDER_KIND = { course: FolderKind.FOLDER_KIND_COURSE, curriculum: FolderKind.FOLDER_KIND_CURRICULUM } as const;

export function toHttpFolder(folder: Folder) {
  return { ...folder, kind: folder.kind === FolderKind.FOLDER_KIND_CURRICULUM ? ('curriculum' as const) : ('course' as const) };
}
