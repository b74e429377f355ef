import { checkDate, checkId, checkOneOf, checkText, type Emit, invalidArgument, Params, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type {
  AddUsersAudiencesRequest,
  AddUsersRolesRequest,
  ModifyUsersRequest,
  SetUsersManagerRequest,
} from '@assistants/proto/gen/identity/v1/user_actions';
import type { Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { findOrganisation } from './organisations.repo';
import { requireMayGive } from './roles';
import { GRANT_SELECT, toGrant, type GrantRow, type RoleRow } from './roles.repo';
import { asParameter, UserBatch } from './user-batch';
import { emitAudiencesChanged } from './users';
import { loadUsers, requireVisibleUsers } from './users.repo';
import { TWO_FACTOR_MODES } from './validation';

/** The user assistant's actions on identity (U1-U5), one batch of users at a time: the
 * same rules and events as the single-user commands (users.ts, roles.ts), in a few
 * statements for the whole batch. */

type Without<T> = Omit<T, 'batch'>;

/** What each U1 field sets: its column and its checked value. */
const MODIFIABLE: [keyof Without<ModifyUsersRequest>, string, (field: string, value: never) => unknown][] = [
  ['disabled', 'disabled', (_f, v: boolean) => v],
  ['activationDate', 'activation_date', (f, v: string) => checkDate(f, v)],
  ['expirationDate', 'expiration_date', (f, v: string) => checkDate(f, v)],
  ...Array.from({ length: 10 }, (_, i) => [
    `custom${i + 1}` as keyof Without<ModifyUsersRequest>,
    `custom${i + 1}`,
    (f: string, v: string) => checkText(f, v, { max: 255 }),
  ]),
  ['twoFactor', 'two_factor', (f, v: string) => checkOneOf(f, v, TWO_FACTOR_MODES)],
] as [keyof Without<ModifyUsersRequest>, string, (field: string, value: never) => unknown][];

/** Runs after users changed: dynamic lists follow, then each user gets its
 * identity.user.updated.v1 naming what changed for it (as updateUser does). */
async function emitUsersUpdated(tx: Queryable, emit: Emit, changed: Map<string, string[]>): Promise<void> {
  const ids = [...changed.keys()];
  if (ids.length === 0) return;
  await refreshDynamicLists(tx, emit, { userIds: ids });
  for (const user of await loadUsers(tx, ids)) events.userUpdated(emit, { user, changedFields: changed.get(user.id)! });
}

/** U1 Modify values: disabled, activation and expiration dates, custom fields, 2FA mode. */
export async function modifyUsers(tx: Queryable, emit: Emit, caller: Caller, req: Without<ModifyUsersRequest>): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const values = new Map<string, unknown>();
  for (const [field, column, check] of MODIFIABLE) {
    const value = req[field];
    if (value !== undefined) values.set(column, check(field, value as never));
  }
  if (values.size === 0) throw invalidArgument('', 'choose at least one value to change');
  const activation = values.get('activation_date');
  const expiration = values.get('expiration_date');
  if (activation && expiration && activation > expiration) {
    throw invalidArgument('expirationDate', `expirationDate (${expiration}) is before activationDate (${activation})`);
  }

  const batch = await UserBatch.load(tx, caller, scope, req.userIds, { covered: true, externallyManaged: true });
  const changed = new Map<string, string[]>();
  for (const user of batch.open) {
    const row = user as unknown as Record<string, unknown>;
    const columns = [...values].filter(([column, value]) => (row[column] ?? null) !== (value ?? null)).map(([column]) => column);
    if (columns.length === 0) {
      batch.unchanged(user.id, 'ALREADY_SET', 'this user already has these values');
      continue;
    }
    const from = (values.has('activation_date') ? activation : user.activation_date) as string | null;
    const to = (values.has('expiration_date') ? expiration : user.expiration_date) as string | null;
    if (from && to && from > to) {
      batch.fail(user.id, 'EXPIRATION_BEFORE_ACTIVATION', `the expiration date (${to}) would be before the activation date (${from})`);
      continue;
    }
    changed.set(user.id, columns);
    batch.succeed(user.id);
  }
  if (changed.size > 0) {
    // The same values for every user: a column already so for one of them stays the same.
    const p = new Params();
    const assignments = [...values].map(([column, value]) => `${column} = ${p.add(value)}`);
    await tx.query(
      `UPDATE users SET ${assignments.join(', ')}, updated_at = now() WHERE id = ANY(${p.add([...changed.keys()])})`,
      p.values,
    );
  }
  await emitUsersUpdated(tx, emit, changed);
  return batch.results();
}

/** Ids of a parameter, each checked, without repeats; at least one. */
function requiredIds(field: string, ids: string[]): string[] {
  if (ids.length === 0) throw invalidArgument(field, `${field} needs at least one id`);
  return [...new Set(ids.map((id, i) => checkId(`${field}[${i}]`, id)))];
}

/** The index in `ids` of the first id not among `found`. */
function firstMissing(ids: string[], found: Set<string>): number {
  return ids.findIndex((id) => !found.has(id.toLowerCase()));
}

/** U2 Add audiences. */
export async function addUsersAudiences(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Without<AddUsersAudiencesRequest>,
): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const audienceIds = requiredIds('audienceIds', req.audienceIds);
  const { rows: audiences } = await tx.query<{ id: string }>('SELECT id FROM audiences WHERE id = ANY($1) FOR KEY SHARE', [audienceIds]);
  const missing = firstMissing(req.audienceIds, new Set(audiences.map((a) => a.id)));
  if (missing >= 0) throw invalidArgument(`audienceIds[${missing}]`, `no audience with id ${req.audienceIds[missing]}`);

  const batch = await UserBatch.load(tx, caller, scope, req.userIds, { covered: true });
  const { rows } = await tx.query<{ user_id: string }>(
    `INSERT INTO user_audiences (user_id, audience_id)
     SELECT u, a FROM unnest($1::uuid[]) u CROSS JOIN unnest($2::uuid[]) a
     ON CONFLICT DO NOTHING RETURNING user_id`,
    [batch.open.map((u) => u.id), audienceIds],
  );
  const changed = [...new Set(rows.map((r) => r.user_id))];
  for (const id of changed) batch.succeed(id);
  for (const user of batch.open) batch.unchanged(user.id, 'ALREADY_SET', 'this user already has these audiences');
  if (changed.length > 0) {
    await tx.query('UPDATE users SET updated_at = now() WHERE id = ANY($1)', [changed]);
    await emitAudiencesChanged(tx, emit, changed);
  }
  return batch.results();
}

/** U3 Add roles: the same roles on one organisation for every user. The caller gives only
 * roles whose every permission it holds there (no escalation, as GrantRoles). */
export async function addUsersRoles(tx: Queryable, emit: Emit, caller: Caller, req: Without<AddUsersRolesRequest>): Promise<ItemResult[]> {
  const scope = caller.scope('roles:grant');
  const roleIds = requiredIds('roleIds', req.roleIds);
  const { rows: roles } = await tx.query<RoleRow>('SELECT * FROM roles WHERE id = ANY($1) FOR KEY SHARE', [roleIds]);
  const missing = firstMissing(req.roleIds, new Set(roles.map((r) => r.id)));
  if (missing >= 0) throw invalidArgument(`roleIds[${missing}]`, `no role with id ${req.roleIds[missing]}`);
  const organisation = await asParameter(findOrganisation(tx, scope, { id: req.organisationId }, 'organisationId'));
  const byId = new Map(roles.map((r) => [r.id, r]));
  req.roleIds.forEach((id, i) => requireMayGive(caller, byId.get(id.toLowerCase())!, organisation.path, 'give', `roleIds[${i}]`));

  const batch = await UserBatch.load(tx, caller, scope, req.userIds);
  const { rows } = await tx.query<{ user_id: string; role_id: string }>(
    `INSERT INTO role_grants (user_id, role_id, organisation_id)
     SELECT u, r, $3 FROM unnest($1::uuid[]) u CROSS JOIN unnest($2::uuid[]) r
     ON CONFLICT DO NOTHING RETURNING user_id, role_id`,
    [batch.open.map((u) => u.id), roleIds, organisation.id],
  );
  for (const id of new Set(rows.map((r) => r.user_id))) batch.succeed(id);
  for (const user of batch.open) batch.unchanged(user.id, 'ALREADY_SET', 'this user already has these roles there');
  if (rows.length > 0) {
    const { rows: granted } = await tx.query<GrantRow>(
      `${GRANT_SELECT} WHERE g.organisation_id = $1 AND (g.user_id, g.role_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))
       ORDER BY g.user_id, lower(r.name)`,
      [organisation.id, rows.map((r) => r.user_id), rows.map((r) => r.role_id)],
    );
    for (const g of granted) events.roleGranted(emit, { grant: toGrant(g) });
  }
  return batch.results();
}

/** U4 Set manager (`manager_id`) and U5 Set secondary manager (`secondary_manager_id`): one
 * user, seen by the caller, for every user of the batch but itself. */
export async function setUsersManager(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Without<SetUsersManagerRequest>,
  column: 'manager_id' | 'secondary_manager_id',
): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const [managerId] = await asParameter(requireVisibleUsers(tx, scope, [checkId('managerId', req.managerId)], 'managerId'));
  const role = column === 'manager_id' ? 'manager' : 'secondary manager';

  const batch = await UserBatch.load(tx, caller, scope, req.userIds, { covered: true, externallyManaged: true });
  const changed = new Map<string, string[]>();
  for (const user of batch.open) {
    if (user.id === managerId) batch.fail(user.id, 'OWN_MANAGER', `a user cannot be their own ${role}`);
    else if (user[column] === managerId) batch.unchanged(user.id, 'ALREADY_SET', `this user already has this ${role}`);
    else {
      changed.set(user.id, [column]);
      batch.succeed(user.id);
    }
  }
  if (changed.size > 0) {
    await tx.query(`UPDATE users SET ${column} = $1, updated_at = now() WHERE id = ANY($2)`, [managerId, [...changed.keys()]]);
  }
  await emitUsersUpdated(tx, emit, changed);
  return batch.results();
}
