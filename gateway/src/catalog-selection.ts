import type { CatalogClient } from '@assistants/catalog/client';
import { invalidArgument } from '@assistants/kit';
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

/** The largest page the catalog answers (its MAX_PAGE_SIZE). */
const PAGE = 500;

const tooMany = (total: number, max: number, noun: string) =>
  invalidArgument('selection', `the selection holds ${total} ${noun}; a run takes at most ${max}: narrow it or split it`);

/** Every course of a selection, page after page with the catalog's cursor, each once, with
 * its unique id (code) as the label a person recognises it by; INVALID_ARGUMENT ("selection")
 * past `max` courses. Resolved on behalf of the current context's acting user. */
export async function* walkCourseSelection(
  catalog: CatalogClient,
  selection: Static<typeof CourseSelection>,
  max: number,
): AsyncIterable<{ ids: string[]; labels: string[] }> {
  const request = toProtoCourseSelection(selection);
  const seen = new Set<string>();
  let after = '';
  do {
    const page = await catalog.courses.resolveCourseSelection({ selection: request, page: { limit: PAGE, offset: 0, after } });
    if (page.total > max) throw tooMany(page.total, max, 'courses');
    const fresh = page.courses.filter((c) => !seen.has(c.id));
    fresh.forEach((c) => seen.add(c.id));
    yield { ids: fresh.map((c) => c.id), labels: fresh.map((c) => c.code) };
    after = page.nextCursor;
  } while (after !== '');
}

/** Every curriculum of a selection, as walkCourseSelection. */
export async function* walkCurriculumSelection(
  catalog: CatalogClient,
  selection: Static<typeof CurriculumSelection>,
  max: number,
): AsyncIterable<{ ids: string[]; labels: string[] }> {
  const request = toProtoCurriculumSelection(selection);
  const seen = new Set<string>();
  let after = '';
  do {
    const page = await catalog.curricula.resolveCurriculumSelection({ selection: request, page: { limit: PAGE, offset: 0, after } });
    if (page.total > max) throw tooMany(page.total, max, 'curricula');
    const fresh = page.curricula.filter((c) => !seen.has(c.id));
    fresh.forEach((c) => seen.add(c.id));
    yield { ids: fresh.map((c) => c.id), labels: fresh.map((c) => c.code) };
    after = page.nextCursor;
  } while (after !== '');
}
