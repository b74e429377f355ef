import { checkId, checkOneOf, containsPattern, invalidArgument, type Params, ROOT_ORGANISATION_ID } from '@assistants/kit';
import type { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { MATCH_MODES } from './validation';

/** The "contains" criteria of SEL-1 and the user columns they look in. */
const TEXT_CRITERIA = {
  lastName: 'last_name',
  firstName: 'first_name',
  login: 'login',
  email: 'email',
  extId: 'ext_id',
  custom1: 'custom1',
  custom2: 'custom2',
  custom3: 'custom3',
  custom4: 'custom4',
  custom5: 'custom5',
  custom6: 'custom6',
  custom7: 'custom7',
  custom8: 'custom8',
  custom9: 'custom9',
  custom10: 'custom10',
} as const;

const MAX_CRITERION = 200;

/** Checks a filter given by a caller, naming the field at fault (`filter.match`, ...). */
export function checkUserFilter(filter: UserFilter | undefined, field = 'filter'): UserFilter {
  if (!filter) throw invalidArgument(field, `${field} is required`);
  checkOneOf(`${field}.match`, filter.match, MATCH_MODES);
  for (const key of [...Object.keys(TEXT_CRITERIA), 'audience'] as (keyof typeof TEXT_CRITERIA | 'audience')[]) {
    if (filter[key].length > MAX_CRITERION) {
      throw invalidArgument(`${field}.${key}`, `${field}.${key} is longer than ${MAX_CRITERION} characters`);
    }
  }
  if (filter.organisationId !== '') checkId(`${field}.organisationId`, filter.organisationId);
  if (filter.includeSubOrganisations && filter.organisationId === '') {
    throw invalidArgument(`${field}.includeSubOrganisations`, `${field}.includeSubOrganisations needs ${field}.organisationId`);
  }
  return filter;
}

/** The rows a condition is written for: users, or their search projection user_search
 * (migrations/003_user_search.sql), whose columns lower_<column> hold lower() of the users
 * columns. The text criteria always read user_search: "contains, case-insensitive" is
 * `lower_<column> LIKE lower(pattern)`, what ILIKE computes, without folding every row. */
export type UserRows = 'users' | 'user_search';

/** SQL condition for the users `alias` a (checked) filter matches: its criteria combined
 * with ALL or ANY, then, always, the disabled and organisation restrictions. `alias` is a row
 * of `rows`; on users, the text criteria are looked up in user_search.
 *
 * The root's sub-tree is the whole tree: no restriction. (The planner estimates a sub-tree
 * found through its organisation at one organisation: right for most, whose users it then
 * reads by organisation, but the root's are every user, each then looked up in the other
 * criteria one by one: a whole-tree search with an audience took 134 ms for 20,000 users, 5
 * without the restriction. Found by its path instead, every sub-tree was estimated larger,
 * and bench:select's mid-level one with an audience went from 27 to 190 ms on a million
 * users.) */
export function userFilterCondition(filter: UserFilter, p: Params, alias = 'u', rows: UserRows = 'users'): string {
  const join = filter.match === 'any' ? ' OR ' : ' AND ';
  const search = rows === 'user_search' ? alias : 'fs';
  const texts: string[] = [];
  for (const [key, column] of Object.entries(TEXT_CRITERIA) as [keyof typeof TEXT_CRITERIA, string][]) {
    const text = filter[key].trim();
    if (text !== '') texts.push(`${search}.lower_${column} LIKE lower(${p.add(containsPattern(text))})`);
  }
  const criteria: string[] = [];
  if (texts.length > 0) {
    criteria.push(...(rows === 'user_search' ? texts : [`${alias}.id IN (SELECT fs.id FROM user_search fs WHERE ${texts.join(join)})`]));
  }
  const audience = filter.audience.trim();
  if (audience !== '') {
    criteria.push(
      `${alias}.id IN (SELECT fa.user_id FROM user_audiences fa JOIN audiences a ON a.id = fa.audience_id WHERE a.name ILIKE ${p.add(containsPattern(audience))})`,
    );
  }
  const conditions: string[] = [];
  if (criteria.length > 0) conditions.push(`(${criteria.join(join)})`);
  if (!filter.includeDisabled) conditions.push(`NOT ${alias}.disabled`);
  const organisation = filter.organisationId;
  if (organisation !== '' && !filter.includeSubOrganisations) {
    conditions.push(`${alias}.organisation_id = ${p.add(organisation)}`);
  } else if (organisation !== '' && organisation !== ROOT_ORGANISATION_ID) {
    conditions.push(
      `${alias}.organisation_id IN (SELECT d.id FROM organisations d JOIN organisations top ON d.path LIKE top.path || '%' WHERE top.id = ${p.add(organisation)})`,
    );
  }
  return conditions.length > 0 ? conditions.join(' AND ') : 'TRUE';
}
