import { invalidArgument, type Queryable } from '@assistants/kit';
import type { UserFilter, UserSelection, UserSummary } from '@assistants/proto/gen/identity/v1/users';
import type { Caller } from './caller';
import { findList } from './lists.repo';
import { findOrganisation } from './organisations.repo';
import { pageOf, type PageRequest } from './paging';
import type { ResolvedScope } from './scope';
import { Params } from './sql';
import { checkUserFilter, userFilterCondition } from './user-filter';
import { checkIds } from './validation';

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

const SUMMARY_COLUMNS = 'u.id, u.login, u.ext_id, u.last_name, u.first_name, u.email, u.disabled, u.organisation_id';

/** How many users, in name order, the first try at a page looks at per row up to its end:
 * enough to fill it when 2 % of the users match, spread over the alphabet. Below that,
 * finding every match is cheap. */
const WALK_PER_ROW = 50;

/** One page of the users matching `where`, sorted by name, and their exact count.
 *
 * Left to itself, the planner fetches a page by walking the name index and filtering, on the
 * assumption that matches are spread over the alphabet. They are not for a last-name (or
 * login, email...) fragment: "mar" has no match before "Marchand", and the walk reads half
 * the table (seconds, on a million users). So the walk is bounded: it looks at the first
 * WALK_PER_ROW × (offset + limit) users in name order, which fills the page when matches are
 * spread; otherwise every match is found through the filter's indexes and sorted. */
function pageOfUsers(q: Queryable, where: string, p: Params, page: PageRequest) {
  const pageQuery = (users: string, condition: string, limit: number, offset: number) =>
    q.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS}, o.label AS organisation_label
       FROM ${users} JOIN organisations o ON o.id = u.organisation_id
       WHERE ${condition} ORDER BY u.last_name, u.first_name, u.id LIMIT ${limit} OFFSET ${offset}`,
      p.values,
    );
  return pageOf(page, {
    items: async (limit, offset) => {
      const walk = WALK_PER_ROW * (offset + limit);
      const walked = await pageQuery(`(SELECT * FROM users ORDER BY last_name, first_name, id LIMIT ${walk}) u`, where, limit, offset);
      if (walked.rows.length === limit) return walked;
      // OFFSET 0 keeps the planner from pushing the ORDER BY ... LIMIT into the subquery,
      // that is, from walking the name index again.
      return pageQuery(`(SELECT ${SUMMARY_COLUMNS} FROM users u WHERE ${where} OFFSET 0) u`, 'TRUE', limit, offset);
    },
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM users u WHERE ${where}`, p.values),
    map: toSummary,
  });
}

async function filterCondition(q: Queryable, scope: ResolvedScope, filter: UserFilter | undefined, field: string, p: Params) {
  const checked = checkUserFilter(filter, field);
  if (checked.organisationId !== '') {
    await findOrganisation(q, scope, { id: checked.organisationId }, `${field}.organisationId`);
  }
  return userFilterCondition(checked, p, 'u');
}

/** SEL-1: the users a filter matches, seen through the scope. */
export async function searchUsers(q: Queryable, caller: Caller, filter: UserFilter | undefined, page: PageRequest) {
  const scope = caller.scope('users:read');
  const p = new Params();
  const where = `${await filterCondition(q, scope, filter, 'filter', p)} AND ${scope.userCondition(p, 'u')}`;
  return pageOfUsers(q, where, p, page);
}

/** SEL-1..3: the users a selection stands for (ids, a filter or a list, minus the removed
 * ids), seen through the scope. */
export async function resolveUserSelection(q: Queryable, caller: Caller, selection: UserSelection | undefined, page: PageRequest) {
  const scope = caller.scope('users:read');
  if (!selection) throw invalidArgument('selection', 'selection is required');
  const p = new Params();
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
  return pageOfUsers(q, conditions.join(' AND '), p, page);
}
