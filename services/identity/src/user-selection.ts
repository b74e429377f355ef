import { checkIds, invalidArgument, isId, Params, type Queryable } from '@assistants/kit';
import type { UserFilter, UserSelection, UserSummary } from '@assistants/proto/gen/identity/v1/users';
import { LRUCache } from 'lru-cache';
import type { Caller } from './caller';
import { findList } from './lists.repo';
import { findOrganisation } from './organisations.repo';
import { checkKeysetPage, decodeCursor, encodeCursor, MAX_PAGE_SIZE, type PageRequest } from './paging';
import type { ResolvedScope } from './scope';
import { checkUserFilter, userFilterCondition } from './user-filter';

type SummaryRow = {
  id: string;
  login: string;
  ext_id: string | null;
  last_name: string;
  first_name: string;
  email: string;
  disabled: boolean;
  organisation_id: string;
  organisation_label: string;
};

function toSummary(row: SummaryRow): UserSummary {
  return {
    id: row.id,
    login: row.login,
    extId: row.ext_id ?? '',
    lastName: row.last_name,
    firstName: row.first_name,
    email: row.email,
    disabled: row.disabled,
    organisationId: row.organisation_id,
    organisationLabel: row.organisation_label,
  };
}

/** How many users, in name order, the walk looks at per row up to the page's end: enough to
 * fill it when 2 % of the users match, spread over the alphabet. */
const WALK_PER_ROW = 50;
/** The walk never looks at more users than this (a first page of MAX_PAGE_SIZE), however deep
 * the offset: a deeper page that the walk does not fill sorts the matches. */
const MAX_WALK = WALK_PER_ROW * MAX_PAGE_SIZE;
/** Up to this many matches (as the planner estimates them), one statement finds, counts and
 * sorts them all (a scoped administrator's searches, id selections, narrow filters): cheaper
 * than a walk and a count. */
const SORT_AT_MOST = 5_000;

/** A cursor holds the sort key of the last row of its page: last name, first name, id. */
const isSortKey = (key: string[]) => key.length === 3 && isId(key[2]);

/** One page of the users matching `where` (a condition on the user_search row `u`), sorted by
 * name, their exact count, and the cursor of the next page ("" on the last one).
 *
 * The planner's estimate of the matches chooses the path (never the answer: a wrong estimate
 * only costs time). Up to SORT_AT_MOST estimated, one statement takes up to SORT_AT_MOST + 1
 * matches through the filter's indexes, counts them and sorts them: with no more, that is the
 * page and its total. With more matches, the count runs beside the page query. Left to
 * itself, the planner would find that page by walking the name index and filtering, on the
 * assumption that matches are spread over the alphabet. They are not for a last-name (or
 * login, email...) fragment: "mar" has no match before "Marchand", and the walk reads half
 * the table (seconds, on a million users). So the walk is bounded: it looks at the first
 * WALK_PER_ROW × (offset + limit) users in name order (at most MAX_WALK) from the start or
 * the cursor, which fills the page when matches are spread; otherwise every match (after the
 * cursor) is sorted. One row more than the page tells whether there is a next page. */
async function pageOfUsers(
  q: Queryable,
  where: string,
  p: Params,
  page: PageRequest,
): Promise<{ items: UserSummary[]; total: number; nextCursor: string }> {
  const { limit, offset, after } = checkKeysetPage(page, isSortKey);
  /** The page of the rows `source` selects (id, last_name, first_name, total), sorted by
   * name; `startAt(alias)` writes where rows start: after the cursor, if any. */
  const pageQuery = async (source: (startAt: (alias: string) => string) => string) => {
    const pp = p.copy();
    const startAt = (alias: string) =>
      after
        ? `(${alias}.last_name, ${alias}.first_name, ${alias}.id) > (${pp.add(after[0])}, ${pp.add(after[1])}, ${pp.add(after[2])}::uuid)`
        : 'TRUE';
    const { rows } = await q.query<SummaryRow & { total: string | null }>(
      `SELECT us.id, us.login, us.ext_id, us.last_name, us.first_name, us.email, us.disabled, us.organisation_id, o.label AS organisation_label, page.total
       FROM (${source(startAt)} ORDER BY u.last_name, u.first_name, u.id LIMIT ${limit + 1} OFFSET ${offset}) page
       JOIN users us ON us.id = page.id JOIN organisations o ON o.id = us.organisation_id
       ORDER BY page.last_name, page.first_name, page.id`,
      pp.values,
    );
    return rows;
  };

  const count = async () =>
    Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM user_search u WHERE ${where}`, p.values)).rows[0].n);

  if ((await estimatedMatches(q, where, p)) <= SORT_AT_MOST) {
    // The window counts every match, the cursor applies after it (a condition is not pushed
    // below a window).
    const rows = await pageQuery(
      (startAt) =>
        `SELECT u.id, u.last_name, u.first_name, u.total
         FROM (SELECT m.*, count(*) OVER () AS total
               FROM (SELECT u.id, u.last_name, u.first_name FROM user_search u WHERE ${where} LIMIT ${SORT_AT_MOST + 1}) m) u
         WHERE ${startAt('u')}`,
    );
    const total = rows.length > 0 ? Number(rows[0].total) : await count();
    if (total <= SORT_AT_MOST) return pageOf(rows, total);
  }
  const walk = Math.min(WALK_PER_ROW * (offset + limit + 1), MAX_WALK);
  const items = async () => {
    const walked = await pageQuery(
      (startAt) =>
        `SELECT u.id, u.last_name, u.first_name, NULL::bigint AS total
         FROM (SELECT * FROM user_search w WHERE ${startAt('w')} ORDER BY w.last_name, w.first_name, w.id LIMIT ${walk}) u
         WHERE ${where}`,
    );
    if (walked.length > limit) return walked;
    // OFFSET 0 keeps the planner from pushing the ORDER BY ... LIMIT into the subquery, that
    // is, from walking the name index again.
    return pageQuery(
      (startAt) =>
        `SELECT u.id, u.last_name, u.first_name, NULL::bigint AS total
         FROM (SELECT u.id, u.last_name, u.first_name FROM user_search u WHERE ${where} AND ${startAt('u')} OFFSET 0) u`,
    );
  };
  const [rows, total] = await Promise.all([items(), count()]);
  return pageOf(rows, total);

  function pageOf(rows: SummaryRow[], total: number) {
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      items: rows.slice(0, limit).map(toSummary),
      total,
      nextCursor: last ? encodeCursor([last.last_name, last.first_name, last.id]) : '',
    };
  }
}

/** Estimates of the conditions planned lately (the condition and its values), kept a little
 * while: the next page of a search, the same search again or another administrator's in the
 * same scope plan it once. An estimate only chooses the path, never the answer, and the
 * statistics it comes from change slowly (ANALYZE). */
const estimates = new LRUCache<string, number>({
  max: 2_000,
  ttl: 30_000,
  // Bounded by its keys' characters: a selection of 10,000 ids is a key of 370,000.
  maxSize: 4_000_000,
  sizeCalculation: (_estimate, key) => key.length,
});

/** The planner's estimate of how many users meet `where`: planned, not run. */
async function estimatedMatches(q: Queryable, where: string, p: Params): Promise<number> {
  const key = `${where}\u0000${JSON.stringify(p.values)}`;
  const known = estimates.get(key);
  if (known !== undefined) return known;
  const { rows } = await q.query<{ 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM user_search u WHERE ${where}`,
    p.values,
  );
  const estimate = rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
  estimates.set(key, estimate);
  return estimate;
}

/** The condition of a filter, seen through the scope. A filter naming an organisation (which
 * must lie in the scope) keeps to it or its sub-tree: inside the scope already, so the scope
 * adds no condition for the planner to misjudge. */
async function filterCondition(q: Queryable, scope: ResolvedScope, filter: UserFilter | undefined, field: string, p: Params) {
  const checked = checkUserFilter(filter, field);
  if (checked.organisationId === '') return `${userFilterCondition(checked, p, 'u', 'user_search')} AND ${scope.userCondition(p, 'u')}`;
  await findOrganisation(q, scope, { id: checked.organisationId }, `${field}.organisationId`);
  return userFilterCondition(checked, p, 'u', 'user_search');
}

/** SEL-1: the users a filter matches, seen through the scope. */
export async function searchUsers(q: Queryable, caller: Caller, filter: UserFilter | undefined, page: PageRequest) {
  const scope = caller.scope('users:read');
  const p = new Params();
  return pageOfUsers(q, await filterCondition(q, scope, filter, 'filter', p), p, page);
}

/** The condition on the user_search row `u` of the users a selection stands for (ids, a
 * filter or a list, minus the removed ids), seen through the scope. */
async function selectionCondition(q: Queryable, scope: ResolvedScope, selection: UserSelection | undefined, p: Params): Promise<string> {
  if (!selection) throw invalidArgument('selection', 'selection is required');
  const conditions: string[] = [];
  if (selection.ids) {
    conditions.push(`u.id = ANY(${p.add(checkIds('selection.ids.ids', selection.ids.ids))})`, scope.userCondition(p, 'u'));
  } else if (selection.filter) {
    conditions.push(await filterCondition(q, scope, selection.filter, 'selection.filter', p));
  } else if (selection.listId !== undefined) {
    const list = await findList(q, scope, selection.listId, 'selection.listId');
    conditions.push(`u.id IN (SELECT m.user_id FROM list_members m WHERE m.list_id = ${p.add(list.id)})`, scope.userCondition(p, 'u'));
  } else {
    throw invalidArgument('selection', 'selection needs one of ids, filter or listId');
  }
  if (selection.excludeIds.length > 0) {
    conditions.push(`u.id <> ALL(${p.add(checkIds('selection.excludeIds', selection.excludeIds))})`);
  }
  return conditions.join(' AND ');
}

/** SEL-1..3: one page of the users a selection stands for, seen through the scope. */
export async function resolveUserSelection(q: Queryable, caller: Caller, selection: UserSelection | undefined, page: PageRequest) {
  const scope = caller.scope('users:read');
  const p = new Params();
  return pageOfUsers(q, await selectionCondition(q, scope, selection, p), p, page);
}

export const DEFAULT_SELECTED_PAGE = 5_000;
export const MAX_SELECTED_PAGE = 10_000;

/** SEL-1..3 for an assistant run: every user a selection stands for, as ids and logins, in
 * large keyset pages in name order (the cursors of ResolveUserSelection), the exact count
 * on the first page only: a run walks the whole selection once. */
export async function listSelectedUsers(
  q: Queryable,
  caller: Caller,
  request: { selection?: UserSelection; limit: number; after: string },
): Promise<{ users: { id: string; login: string }[]; total: number; nextCursor: string }> {
  const scope = caller.scope('users:read');
  const limit = request.limit || DEFAULT_SELECTED_PAGE;
  if (limit > MAX_SELECTED_PAGE) throw invalidArgument('limit', `limit must be at most ${MAX_SELECTED_PAGE}`);
  const after = request.after === '' || request.after.length > 4_000 ? undefined : decodeCursor(request.after);
  if (request.after !== '' && (!after || !isSortKey(after)))
    throw invalidArgument('after', 'after must be the next_cursor of a previous page');
  const p = new Params();
  const where = await selectionCondition(q, scope, request.selection, p);
  const count = after ? undefined : q.query<{ n: string }>(`SELECT count(*) AS n FROM user_search u WHERE ${where}`, p.values);
  const pp = p.copy();
  const startAt = after
    ? `(u.last_name, u.first_name, u.id) > (${pp.add(after[0])}, ${pp.add(after[1])}, ${pp.add(after[2])}::uuid)`
    : 'TRUE';
  const { rows } = await q.query<{ id: string; login: string; last_name: string; first_name: string }>(
    `SELECT u.id, us.login, u.last_name, u.first_name FROM user_search u JOIN users us ON us.id = u.id
     WHERE ${where} AND ${startAt} ORDER BY u.last_name, u.first_name, u.id LIMIT ${limit + 1}`,
    pp.values,
  );
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return {
    users: rows.slice(0, limit).map((r) => ({ id: r.id, login: r.login })),
    total: count ? Number((await count).rows[0].n) : 0,
    nextCursor: last ? encodeCursor([last.last_name, last.first_name, last.id]) : '',
  };
}
