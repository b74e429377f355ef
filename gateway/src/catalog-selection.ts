import { CourseFilter, type CourseSelection as ProtoCourseSelection } from '@assistants/proto/gen/catalog/v1/courses';
import { CurriculumFilter, type CurriculumSelection as ProtoCurriculumSelection } from '@assistants/proto/gen/catalog/v1/curricula';
import type { Static } from '@sinclair/typebox';
import type {
  CourseFilter as CourseFilterSchema,
  CourseSelection,
  CurriculumFilter as CurriculumFilterSchema,
  CurriculumSelection,
} from './schemas/catalog';

/** An HTTP course filter (absent criteria allowed) as the catalog contract's. */
export function toProtoCourseFilter(filter: Static<typeof CourseFilterSchema>): CourseFilter {
  return CourseFilter.fromPartial(filter);
}

export function toProtoCurriculumFilter(filter: Static<typeof CurriculumFilterSchema>): CurriculumFilter {
  return CurriculumFilter.fromPartial(filter);
}

/** An HTTP course selection ({type: "ids" | "filter", ...}) as the catalog contract's. */
export function toProtoCourseSelection(selection: Static<typeof CourseSelection>): ProtoCourseSelection {
  const excludeIds = selection.excludeIds ?? [];
  return selection.type === 'ids'
    ? { ids: { ids: selection.ids }, excludeIds }
    : { filter: toProtoCourseFilter(selection.filter), excludeIds };
}

export function toProtoCurriculumSelection(selection: Static<typeof CurriculumSelection>): ProtoCurriculumSelection {
  const excludeIds = selection.excludeIds ?? [];
  return selection.type === 'ids'
    ? { ids: { ids: selection.ids }, excludeIds }
    : { filter: toProtoCurriculumFilter(selection.filter), excludeIds };
}
