import { checkIds, invalidArgument, isId, Params, type Queryable } from '@assistants/kit';
import type { UserFilter, UserSelection, UserSummary } from '@assistants/proto/gen/identity/v1/users';
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

/** How many users, in name order, the first try at a page looks at per row up to its end:
 * enough to fill it when 2 % of the users match, spread over the alphabet. Below that,
 * finding every match is cheap. */
const WALK_PER_ROW = 50;
/** The walk never looks at more users than this (a first page of MAX_PAGE_SIZE), however deep
 * the offset: a deeper page that the walk does not fill sorts the matches. */
const MAX_WALK = WALK_PER_ROW * MAX_PAGE_SIZE;

/** A cursor holds the sort key of the last row of its page: last name, first name, id. */
const isSortKey = (key: string[]) => key.length === 3 && isId(key[2]);

/** One page of the users matching `where` (a condition on the user_search row `u`), sorted by
 * name, their exact count, and the cursor of the next page ("" on the last one).
 *
 * Left to itself, the planner fetches a page by walking the name index and filtering, on the
 * assumption that matches are spread over the alphabet. They are not for a last-name (or
 * login, email...) fragment: "mar" has no match before "Marchand", and the walk reads half
 * the table (seconds, on a million users). So the walk is bounded: it looks at the first
 * WALK_PER_ROW × (offset + limit) users in name order (at most MAX_WALK) from the start or
 * the cursor, which fills the page when matches are spread; otherwise every match (after the
 * cursor) is found through the filter's indexes and sorted, and counted on the way (the
 * count would read the same matches again). One row more than the page tells whether there
 * is a next page. */
async function pageOfUsers(
  q: Queryable,
  where: string,
  p: Params,
  page: PageRequest,
): Promise<{ items: UserSummary[]; total: number; nextCursor: string }> {
  const { limit, offset, after } = checkKeysetPage(page, isSortKey);
  /** The page among the rows of `users` (alias u, with a `total` column) that meet
   * `condition`, sorted by name; `startAt(alias)` writes where rows start: after the cursor,
   * if any. */
  const pageQuery = (users: (startAt: (alias: string) => string) => string, condition: string) => {
    const pp = p.copy();
    const startAt = (alias: string) =>
      after
        ? `(${alias}.last_name, ${alias}.first_name, ${alias}.id) > (${pp.add(after[0])}, ${pp.add(after[1])}, ${pp.add(after[2])}::uuid)`
        : 'TRUE';
    return q.query<SummaryRow & { total: string | null }>(
      `SELECT us.id, us.login, us.ext_id, us.last_name, us.first_name, us.email, us.disabled, us.organisation_id, o.label AS organisation_label, page.total
       FROM (SELECT u.id, u.last_name, u.first_name, u.total FROM ${users(startAt)} u WHERE ${condition}
             ORDER BY u.last_name, u.first_name, u.id LIMIT ${limit + 1} OFFSET ${offset}) page
       JOIN users us ON us.id = page.id JOIN organisations o ON o.id = us.organisation_id
       ORDER BY page.last_name, page.first_name, page.id`,
      pp.values,
    );
  };
  const count = async () =>
    Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM user_search u WHERE ${where}`, p.values)).rows[0].n);
  const walk = Math.min(WALK_PER_ROW * (offset + limit + 1), MAX_WALK);
  let rows: SummaryRow[] = (
    await pageQuery(
      (startAt) =>
        `(SELECT w.*, NULL::bigint AS total FROM user_search w WHERE ${startAt('w')} ORDER BY w.last_name, w.first_name, w.id LIMIT ${walk})`,
      where,
    )
  ).rows;
  let total: number;
  if (rows.length > limit) {
    total = await count();
  } else {
    // OFFSET 0 keeps the planner from pushing the ORDER BY ... LIMIT into the subquery,
    // that is, from walking the name index again. After a cursor the window counts only the
    // rows past it: the total is then counted apart.
    const all = await pageQuery(
      (startAt) =>
        `(SELECT u.id, u.last_name, u.first_name, ${after ? 'NULL::bigint' : 'count(*) OVER ()'} AS total
          FROM user_search u WHERE ${where} AND ${startAt('u')} OFFSET 0)`,
      'TRUE',
    );
    rows = all.rows;
    const counted = all.rows[0]?.total;
    total = counted != null ? Number(counted) : !after && offset === 0 ? 0 : await count();
  }
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return {
    items: rows.slice(0, limit).map(toSummary),
    total,
    nextCursor: last ? encodeCursor([last.last_name, last.first_name, last.id]) : '',
  };
}

async function filterCondition(q: Queryable, scope: ResolvedScope, filter: UserFilter | undefined, field: string, p: Params) {
  const checked = checkUserFilter(filter, field);
  if (checked.organisationId !== '') {
    await findOrganisation(q, scope, { id: checked.organisationId }, `${field}.organisationId`);
  }
  return userFilterCondition(checked, p, 'u', 'user_search');
}

/** SEL-1: the users a filter matches, seen through the scope. */
export async function searchUsers(q: Queryable, caller: Caller, filter: UserFilter | undefined, page: PageRequest) {
  const scope = caller.scope('users:read');
  const p = new Params();
  const where = `${await filterCondition(q, scope, filter, 'filter', p)} AND ${scope.userCondition(p, 'u')}`;
  return pageOfUsers(q, where, p, page);
}

/** The condition on the user_search row `u` of the users a selection stands for (ids, a
 * filter or a list, minus the removed ids), seen through the scope. */
async function selectionCondition(q: Queryable, scope: ResolvedScope, selection: UserSelection | undefined, p: Params): Promise<string> {
  if (!selection) throw invalidArgument('selection', 'selection is required');
  const conditions: string[] = [];
  if (selection.ids) {
    conditions.push(`u.id = ANY(${p.add(checkIds('selection.ids.ids', selection.ids.ids))})`);
  } else if (selection.filter) {
    conditions.push(await filterCondition(q, scope, selection.filter, 'selection.filter', p));
  } else if (selection.listId !== undefined) {
    const list = await findList(q, scope, selection.listId, 'selection.listId');
    conditions.push(`u.id IN (SELECT m.user_id FROM list_members m WHERE m.list_id = ${p.add(list.id)})`);
  } else {
    throw invalidArgument('selection', 'selection needs one of ids, filter or listId');
  }
  if (selection.excludeIds.length > 0) {
    conditions.push(`u.id <> ALL(${p.add(checkIds('selection.excludeIds', selection.excludeIds))})`);
  }
  conditions.push(scope.userCondition(p, 'u'));
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
