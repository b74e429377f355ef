import { invalidArgument } from '@assistants/kit';
import { ProgressStatus } from '@assistants/proto/gen/statistics/v1/common';
import { LessonType as CatalogLessonType } from '@assistants/proto/gen/catalog/v1/courses';
import { STATUSES, type LessonType, type Status } from './rules';

/** Statuses as stored (lower-case words) and as the contracts carry them. */
export const statusToProto = (s: Status): ProgressStatus =>
  ({
    not_started: ProgressStatus.PROGRESS_STATUS_NOT_STARTED,
    browsed: ProgressStatus.PROGRESS_STATUS_BROWSED,
    failed: ProgressStatus.PROGRESS_STATUS_FAILED,
    incomplete: ProgressStatus.PROGRESS_STATUS_INCOMPLETE,
    passed: ProgressStatus.PROGRESS_STATUS_PASSED,
    completed: ProgressStatus.PROGRESS_STATUS_COMPLETED,
  })[s];

export function statusFromProto(field: string, value: ProgressStatus): Status {
  const index = value - ProgressStatus.PROGRESS_STATUS_NOT_STARTED;
  if (!Number.isInteger(index) || index < 0 || index >= STATUSES.length) {
    throw invalidArgument(field, `${field} is required: one of ${STATUSES.join(', ')}`);
  }
  return STATUSES[index];
}

const LESSON_TYPES: Record<number, LessonType> = {
  [CatalogLessonType.LESSON_TYPE_A]: 'A',
  [CatalogLessonType.LESSON_TYPE_L]: 'L',
  [CatalogLessonType.LESSON_TYPE_W]: 'W',
  [CatalogLessonType.LESSON_TYPE_T]: 'T',
  [CatalogLessonType.LESSON_TYPE_E]: 'E',
};

/** A catalog lesson type as a letter (an unknown one counts as a lesson, L). */
export const lessonTypeOf = (type: CatalogLessonType): LessonType => LESSON_TYPES[type] ?? 'L';

/** 0-100, or the field at fault. */
export function checkScore(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 100) throw invalidArgument(field, `${field} must be a whole number from 0 to 100`);
  return value;
}

/** "" (now), YYYY-MM-DD (midnight UTC) or an RFC 3339 instant, not in the future. */
export function checkStatusDate(field: string, value: string, now = new Date()): Date {
  const text = value.trim();
  if (!text) return now;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw invalidArgument(field, `${field} must be YYYY-MM-DD or an RFC 3339 instant`);
  if (date.getTime() > now.getTime() + 24 * 3_600_000) throw invalidArgument(field, `${field} is in the future`);
  return date;
}

/** A reference as stored: lower case, null for "" (none). */
export const idOrNull = (id: string) => (id ? id.toLowerCase() : null);

/** custom1..custom10 of a catalog or identity object, in order. */
export const customFields = (o: Record<`custom${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10}`, string>) => [
  o.custom1,
  o.custom2,
  o.custom3,
  o.custom4,
  o.custom5,
  o.custom6,
  o.custom7,
  o.custom8,
  o.custom9,
  o.custom10,
];
