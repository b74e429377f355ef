import { checkOneOf, containsPattern, invalidArgument, type Params } from '@assistants/kit';
import type { Audiences } from './audiences';
import { MATCH_MODES } from './validation';

/** What the course and curriculum filters share: "contains" text criteria, an audience
 * name, ALL or ANY, disabled in or out. */
export interface CatalogFilter {
  audience: string;
  match: string;
  includeDisabled: boolean;
}

/** The text criteria of a filter (JSON name → column of the table searched). */
export type TextCriteria<F> = { [K in keyof F]?: string };

const MAX_CRITERION = 200;

/** Checks a filter given by a caller, naming the field at fault (`filter.match`, ...). */
export function checkFilter<F extends CatalogFilter>(filter: F | undefined, criteria: TextCriteria<F>, field: string): F {
  if (!filter) throw invalidArgument(field, `${field} is required`);
  checkOneOf(`${field}.match`, filter.match, MATCH_MODES);
  for (const key of [...Object.keys(criteria), 'audience'] as (keyof F)[]) {
    if (String(filter[key] ?? '').length > MAX_CRITERION) {
      throw invalidArgument(`${field}.${String(key)}`, `${field}.${String(key)} is longer than ${MAX_CRITERION} characters`);
    }
  }
  return filter;
}

/** SQL condition for the rows `alias` a checked filter matches: each criterion given is
 * "contains", case-insensitive; they combine with ALL or ANY; then, always, disabled rows are
 * left out unless asked for. The audience criterion matches rows having an audience whose
 * name contains the text (identity names the audiences). */
export async function filterCondition<F extends CatalogFilter>(
  filter: F,
  criteria: TextCriteria<F>,
  p: Params,
  alias: string,
  audiences: Audiences,
): Promise<string> {
  const join = filter.match === 'any' ? ' OR ' : ' AND ';
  const conditions: string[] = [];
  for (const [key, column] of Object.entries(criteria) as [keyof F, string][]) {
    const text = String(filter[key] ?? '').trim();
    if (text !== '') conditions.push(`${alias}.${column} ILIKE ${p.add(containsPattern(text))}`);
  }
  const audience = filter.audience.trim();
  if (audience !== '') {
    const ids = await audiences.idsNamedLike(audience);
    conditions.push(ids.length > 0 ? `${alias}.audience_ids && ${p.add(ids)}::uuid[]` : 'FALSE');
  }
  const all: string[] = [];
  if (conditions.length > 0) all.push(`(${conditions.join(join)})`);
  if (!filter.includeDisabled) all.push(`NOT ${alias}.disabled`);
  return all.length > 0 ? all.join(' AND ') : 'TRUE';
}
