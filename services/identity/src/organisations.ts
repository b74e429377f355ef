import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  checkAmount,
  checkId,
  checkOneOf,
  checkText,
  containsPattern,
  type Emit,
  failedPrecondition,
  invalidArgument,
  notFound,
  Params,
  type Queryable,
  ROOT_ORGANISATION_ID,
  uniqueViolation,
} from '@assistants/kit';
import type { Organisation, OrganisationFields } from '@assistants/proto/gen/identity/v1/organisations';
import type { Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { findOrganisation, loadOrganisations, ORGANISATION_SELECT, toOrganisation, type OrganisationRow } from './organisations.repo';
import { pageOf, type PageRequest } from './paging';
import { requireVisibleUsers } from './users.repo';
import { LANGUAGES } from './validation';

const text = (max: number) => (field: string, value: string) => checkText(field, value, { max });

const FIELDS: {
  [K in keyof OrganisationFields]-?: { column: string; check: (field: string, value: NonNullable<OrganisationFields[K]>) => unknown };
} = {
  extId: { column: 'ext_id', check: (f, v) => checkText(f, v, { required: true, max: 100 }) },
  label: { column: 'label', check: (f, v) => checkText(f, v, { required: true, max: 255 }) },
  parentId: { column: 'parent_id', check: (f, v) => checkId(f, v) },
  disabled: { column: 'disabled', check: (_f, v) => v },
  description: { column: 'description', check: text(2000) },
  language: { column: 'language', check: (f, v) => checkOneOf(f, v, LANGUAGES) },
  addressLine1: { column: 'address_line1', check: text(255) },
  addressLine2: { column: 'address_line2', check: text(255) },
  zip: { column: 'zip', check: text(20) },
  city: { column: 'city', check: text(100) },
  country: { column: 'country', check: text(100) },
  code: { column: 'code', check: text(50) },
  budget: { column: 'budget', check: checkAmount },
  supervisorId: { column: 'supervisor_id', check: (f, v) => checkId(f, v, true) || null },
};

function columnsOf(fields: OrganisationFields): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(FIELDS) as [keyof OrganisationFields, (typeof FIELDS)[keyof OrganisationFields]][]) {
    const value = fields[key];
    if (value !== undefined) values.set(spec.column, (spec.check as (f: string, v: unknown) => unknown)(key, value));
  }
  return values;
}

function mapUniqueViolation(err: unknown, values: Map<string, unknown>): never {
  if (uniqueViolation(err) === 'organisations_ext_id_key') {
    throw alreadyExists(`external id "${values.get('ext_id')}" is already used by another organisation`, 'extId');
  }
  throw err;
}

export async function getOrganisation(q: Queryable, caller: Caller, ref: { id?: string; extId?: string }): Promise<Organisation> {
  return toOrganisation(await findOrganisation(q, caller.scope('organisations:read'), ref, ref.id ? 'id' : 'extId'));
}

export async function createOrganisation(tx: Queryable, emit: Emit, caller: Caller, fields: OrganisationFields): Promise<Organisation> {
  const scope = caller.scope('organisations:write');
  const values = columnsOf(fields);
  if (!values.has('ext_id')) throw invalidArgument('extId', 'extId is required');
  if (!values.has('label')) throw invalidArgument('label', 'label is required');
  const parent = await findOrganisation(tx, scope, { id: (values.get('parent_id') as string) ?? ROOT_ORGANISATION_ID }, 'parentId');
  const supervisorId = values.get('supervisor_id') as string | null | undefined;
  if (supervisorId) await requireVisibleUsers(tx, scope, [supervisorId], 'supervisorId');
  const id = randomUUID();
  values.set('id', id);
  values.set('parent_id', parent.id);
  values.set('path', `${parent.path}${id}/`);
  const p = new Params();
  const columns = [...values.keys()];
  try {
    await tx.query(
      `INSERT INTO organisations (${columns.join(', ')}) VALUES (${columns.map((c) => p.add(values.get(c))).join(', ')})`,
      p.values,
    );
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  const organisation = toOrganisation((await loadOrganisations(tx, [id]))[0]);
  events.organisationCreated(emit, { organisation, changedFields: Object.values(FIELDS).map((f) => f.column) });
  return organisation;
}

export async function updateOrganisation(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  id: string,
  fields: OrganisationFields,
): Promise<Organisation> {
  const scope = caller.scope('organisations:write');
  const current = await findOrganisation(tx, scope, { id }, 'id', true);
  const values = columnsOf(fields);
  for (const [column, value] of values) {
    if (((current as unknown as Record<string, unknown>)[column] ?? null) === (value ?? null)) values.delete(column);
  }
  if (values.size === 0) return toOrganisation(current);
  if (current.id === ROOT_ORGANISATION_ID && (values.has('parent_id') || values.has('ext_id'))) {
    throw invalidArgument(values.has('parent_id') ? 'parentId' : 'extId', 'the root organisation keeps its place and its external id');
  }
  const supervisorId = values.get('supervisor_id') as string | null | undefined;
  if (supervisorId) await requireVisibleUsers(tx, scope, [supervisorId], 'supervisorId');

  let moved = false;
  if (values.has('parent_id')) {
    const parent = await findOrganisation(tx, scope, { id: values.get('parent_id') as string }, 'parentId');
    if (parent.path.startsWith(current.path)) {
      throw invalidArgument('parentId', 'an organisation cannot move into its own sub-tree');
    }
    const newPath = `${parent.path}${current.id}/`;
    await tx.query(`UPDATE organisations SET path = $1 || substr(path, length($2) + 1) WHERE path LIKE $2 || '%'`, [newPath, current.path]);
    moved = true;
  }
  const p = new Params();
  const assignments = [...values].map(([column, value]) => `${column} = ${p.add(value)}`);
  try {
    await tx.query(`UPDATE organisations SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  const [row] = await loadOrganisations(tx, [current.id]);
  const organisation = toOrganisation(row);
  events.organisationUpdated(emit, { organisation, changedFields: [...values.keys()] });
  if (moved) {
    // Its sub-tree moved with it: every descendant has a new depth, and dynamic lists that
    // filter on a sub-tree may now match other users.
    const { rows: descendants } = await tx.query<OrganisationRow>(
      `${ORGANISATION_SELECT} WHERE o.path LIKE $1 || '%' AND o.id <> $2 ORDER BY o.path`,
      [row.path, row.id],
    );
    for (const d of descendants) events.organisationUpdated(emit, { organisation: toOrganisation(d), changedFields: ['depth'] });
    const { rows: users } = await tx.query<{ id: string }>(
      `SELECT u.id FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE o.path LIKE $1 || '%'`,
      [row.path],
    );
    await refreshDynamicLists(tx, emit, { userIds: users.map((u) => u.id) });
  }
  return organisation;
}

export async function deleteOrganisation(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  const org = await findOrganisation(tx, caller.scope('organisations:write'), { id }, 'id', true);
  if (org.id === ROOT_ORGANISATION_ID) throw failedPrecondition('the root organisation cannot be deleted');
  const { rows } = await tx.query<{ users: string; grants: string; lists: string }>(
    `SELECT (SELECT count(*) FROM users WHERE organisation_id = $1) AS users,
            (SELECT count(*) FROM role_grants WHERE organisation_id = $1) AS grants,
            (SELECT count(*) FROM lists WHERE owner_organisation_id = $1) AS lists`,
    [org.id],
  );
  const blockers = [
    Number(org.children_count) > 0 ? `${org.children_count} sub-organisation(s)` : '',
    Number(rows[0].users) > 0 ? `${rows[0].users} user(s)` : '',
    Number(rows[0].grants) > 0 ? `${rows[0].grants} role grant(s) scoped to it` : '',
    Number(rows[0].lists) > 0 ? `${rows[0].lists} list(s) it owns` : '',
  ].filter(Boolean);
  if (blockers.length > 0) {
    throw failedPrecondition(`organisation "${org.ext_id}" still has ${blockers.join(', ')}: move or delete them first`);
  }
  await tx.query('DELETE FROM organisations WHERE id = $1', [org.id]);
  events.organisationDeleted(emit, { id: org.id, extId: org.ext_id });
}

export interface OrganisationQuery {
  parentId: string;
  query: string;
  includeDisabled: boolean;
  page?: PageRequest;
}

/** Tree browsing: the children of an organisation, or the top of the scope (the root, or
 * the organisations of the caller's grants); with a query, a search in the whole scope. */
export async function listOrganisations(q: Queryable, caller: Caller, request: OrganisationQuery) {
  const scope = caller.scope('organisations:read');
  const p = new Params();
  const conditions = [scope.pathCondition(p, 'o.path')];
  if (request.query.trim() !== '') {
    const pattern = p.add(containsPattern(request.query.trim()));
    conditions.push(`(o.label ILIKE ${pattern} OR o.ext_id ILIKE ${pattern} OR o.code ILIKE ${pattern})`);
  } else if (request.parentId !== '') {
    const parentId = checkId('parentId', request.parentId);
    const { rows } = await q.query('SELECT 1 FROM organisations WHERE id = $1', [parentId]);
    if (rows.length === 0) throw notFound(`no organisation with id ${parentId}`, 'parentId');
    conditions.push(`o.parent_id = ${p.add(parentId)}`);
  } else {
    conditions.push(scope.all ? 'o.parent_id IS NULL' : `o.path = ANY(${p.add(scope.paths)})`);
  }
  if (!request.includeDisabled) conditions.push('NOT o.disabled');
  const where = conditions.join(' AND ');
  return pageOf(request.page, {
    items: (limit, offset) =>
      q.query<OrganisationRow>(
        `${ORGANISATION_SELECT} WHERE ${where} ORDER BY lower(o.label), o.id LIMIT ${limit} OFFSET ${offset}`,
        p.values,
      ),
    count: () => q.query<{ n: string }>(`SELECT count(*) AS n FROM organisations o WHERE ${where}`, p.values),
    map: toOrganisation,
  });
}
