/**
 * bench:select, same results: the service's pages and totals against the original SQL of
 * SEL-1 on the seeded data, for many filters and pages (offset and keyset).
 */
import type { Queryable } from '@assistants/kit';
import type { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import type { IdentityClient } from '@assistants/testing';

/** Where a case searches: everything, or the sub-trees of some organisations. */
export interface BenchScope {
  all: boolean;
  organisationIds: string[];
}

/** A client acting as a user whose scope (for users:read) is `scope`. */
export type ClientFor = (scope: BenchScope) => Promise<IdentityClient>;

const TEXT_COLUMNS: [keyof UserFilter, string][] = [
  ['lastName', 'last_name'],
  ['firstName', 'first_name'],
  ['login', 'login'],
  ['email', 'email'],
  ['extId', 'ext_id'],
  ['custom1', 'custom1'],
  ['custom2', 'custom2'],
  ['custom3', 'custom3'],
  ['custom4', 'custom4'],
  ['custom5', 'custom5'],
  ['custom6', 'custom6'],
  ['custom7', 'custom7'],
  ['custom8', 'custom8'],
  ['custom9', 'custom9'],
  ['custom10', 'custom10'],
];

export interface SearchCase {
  name: string;
  filter: UserFilter;
  scope: BenchScope;
}

/** The users a filter matches in the scope, in name order, by the SQL of 001_identity.sql:
 * ILIKE on the users columns, written here independently of the service's code. */
async function referenceIds(db: Queryable, c: SearchCase): Promise<string[]> {
  const values: unknown[] = [];
  const add = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const pattern = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const f = c.filter;
  const criteria: string[] = [];
  for (const [key, column] of TEXT_COLUMNS) {
    const text = (f[key] as string).trim();
    if (text !== '') criteria.push(`u.${column} ILIKE ${add(pattern(text))}`);
  }
  if (f.audience.trim() !== '') {
    criteria.push(
      `u.id IN (SELECT ua.user_id FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE a.name ILIKE ${add(pattern(f.audience.trim()))})`,
    );
  }
  const conditions: string[] = [];
  if (criteria.length > 0) conditions.push(`(${criteria.join(f.match === 'any' ? ' OR ' : ' AND ')})`);
  if (!f.includeDisabled) conditions.push('NOT u.disabled');
  if (f.organisationId !== '') {
    conditions.push(
      f.includeSubOrganisations
        ? `u.organisation_id IN (SELECT d.id FROM organisations d, organisations t WHERE t.id = ${add(f.organisationId)} AND d.path LIKE t.path || '%')`
        : `u.organisation_id = ${add(f.organisationId)}`,
    );
  }
  if (!c.scope.all) {
    conditions.push(
      `u.organisation_id IN (SELECT d.id FROM organisations d, organisations t WHERE t.id = ANY(${add(c.scope.organisationIds)}) AND d.path LIKE t.path || '%')`,
    );
  }
  const { rows } = await db.query<{ id: string }>(
    `SELECT u.id FROM users u WHERE ${conditions.join(' AND ') || 'TRUE'} ORDER BY u.last_name, u.first_name, u.id`,
    values,
  );
  return rows.map((r) => r.id);
}

function same(what: string, got: unknown, expected: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new Error(
      `${what}: the service answers ${JSON.stringify(got).slice(0, 300)}, the original SQL ${JSON.stringify(expected).slice(0, 300)}`,
    );
  }
}

/** Compares, for each case, offset pages (first, second, 1,000 and 10,000 deep), the first
 * three keyset pages, a whole keyset walk when the result is small, and the total. Throws
 * at the first difference; returns how many pages were compared. */
export async function checkSearches(
  db: Queryable,
  clientFor: ClientFor,
  cases: SearchCase[],
  log: (line: string) => void,
): Promise<number> {
  let pages = 0;
  let keyset = true;
  for (const c of cases) {
    const expected = await referenceIds(db, c);
    const api = await clientFor(c.scope);
    const search = async (limit: number, offset: number, after = '') => {
      const response = await api.users.searchUsers({ filter: c.filter, page: { limit, offset, after } });
      pages++;
      same(`${c.name}, total`, response.total, expected.length);
      return response;
    };
    for (const [limit, offset] of [
      [50, 0],
      [50, 50],
      [20, 1_000],
      [100, 10_000],
    ]) {
      const page = await search(limit, offset);
      same(
        `${c.name}, ${limit} from ${offset}`,
        page.users.map((u) => u.id),
        expected.slice(offset, offset + limit),
      );
    }
    if (!keyset) continue;
    let after = '';
    const walked: string[] = [];
    const limit = expected.length <= 5_000 ? 500 : 50;
    for (let n = 0; n < (limit === 500 ? 11 : 3); n++) {
      const page = await search(limit, 0, after);
      walked.push(...page.users.map((u) => u.id));
      if (n === 0 && page.nextCursor === '' && expected.length > limit) {
        log('  (this code gives no next_cursor: keyset pages not compared)');
        keyset = false;
        break;
      }
      same(`${c.name}, keyset page ${n + 1} of ${limit}`, walked, expected.slice(0, walked.length));
      same(`${c.name}, cursor after page ${n + 1}`, page.nextCursor === '', walked.length === expected.length);
      after = page.nextCursor;
      if (after === '') break;
    }
  }
  return pages;
}

/** ResolveUserSelection: a filter minus removed ids, and a set of ids, against the same SQL. */
export async function checkSelections(db: Queryable, clientFor: ClientFor, c: SearchCase): Promise<void> {
  const expected = await referenceIds(db, c);
  const api = await clientFor(c.scope);
  const removed = [0, 7, 60].filter((i) => i < expected.length).map((i) => expected[i]);
  const resolved = await api.users.resolveUserSelection({
    selection: { filter: c.filter, excludeIds: removed },
    page: { limit: 100, offset: 0, after: '' },
  });
  const kept = expected.filter((id) => !removed.includes(id));
  same(`${c.name}, selection minus 3`, [resolved.total, resolved.users.map((u) => u.id)], [kept.length, kept.slice(0, 100)]);
  const ids = expected.filter((_, i) => i % 97 === 0).slice(0, 300);
  const byIds = await api.users.resolveUserSelection({
    selection: { ids: { ids: [...ids].reverse() }, excludeIds: [] },
    page: { limit: 500, offset: 0, after: '' },
  });
  same(`${c.name}, selection of ${ids.length} ids`, [byIds.total, byIds.users.map((u) => u.id)], [ids.length, ids]);
}
