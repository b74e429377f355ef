import { invalidArgument, type Emit, type Queryable } from '@assistants/kit';
import type {
  AddCourseAudiencesRequest,
  CourseFields,
  ModifyCourseCustomFieldsRequest,
  ModifyCourseInformationRequest,
  ModifyCourseSettingsRequest,
} from '@assistants/proto/gen/catalog/v1/courses';
import type { Audiences } from './audiences';
import { audiencesChange, columnChange, NO_CHANGE, type BatchChange, type BatchTarget } from './batch-items';
import { courseFieldColumns } from './course-fields';
import { CUSTOM_FIELDS, loadCourses } from './courses.repo';
import { events } from './events';

/** The courses of the course assistant's batches; each change emits catalog.course.updated.v1. */
export const COURSES: BatchTarget = {
  table: 'courses',
  noun: 'course',
  async emitUpdated(tx: Queryable, emit: Emit, ids: string[]) {
    for (const course of await loadCourses(tx, ids)) events.course(emit, 'updated', course);
  },
};

/** Only the fields an action may set, from its request: what is not listed is not touched. */
function pick<K extends keyof CourseFields>(req: Partial<Record<K, unknown>>, keys: readonly K[]): CourseFields {
  return Object.fromEntries(keys.filter((k) => req[k] !== undefined).map((k) => [k, req[k]])) as CourseFields;
}

/** C1: disabled, provider, free text 1 and 2; each absent one stays as it is. */
export function courseInformationChange(req: ModifyCourseInformationRequest): BatchChange {
  return columnChange(courseFieldColumns(pick(req, ['disabled', 'provider', 'freeText1', 'freeText2'] as const))) ?? NO_CHANGE;
}

/** C2: the custom fields; each absent one stays as it is. */
export function courseCustomFieldsChange(req: ModifyCourseCustomFieldsRequest): BatchChange {
  return columnChange(courseFieldColumns(pick(req, CUSTOM_FIELDS))) ?? NO_CHANGE;
}

const SETTINGS = [
  'selfEnrolment',
  'selfUnenrolment',
  'learnerMayClearStats',
  'learnerMayRecomputeStatus',
  'sequentialLessons',
  'prerequisites',
  'courseType',
  'protocol',
  'reviewMode',
  'browseMode',
  'windowWidth',
  'windowHeight',
  'fullScreen',
] as const;

/** C3: the settings and options; each absent one stays as it is. Sequential lessons and
 * prerequisites are never both yes and never both no: both given alike is refused (naming
 * sequentialLessons), one given sets the other to its opposite. */
export function courseSettingsChange(req: ModifyCourseSettingsRequest): BatchChange {
  return columnChange(courseFieldColumns(pick(req, SETTINGS))) ?? NO_CHANGE;
}

/** C4: audiences added to those of each course; they must exist in identity. */
export async function courseAudiencesChange(audiences: Audiences, req: AddCourseAudiencesRequest): Promise<BatchChange> {
  if (req.audienceIds.length === 0) throw invalidArgument('audienceIds', 'audienceIds needs at least one audience');
  return audiencesChange([...(await audiences.requireExisting('audienceIds', req.audienceIds))].sort());
}
