import { randomBytes, randomUUID } from 'node:crypto';
import {
  alreadyExists,
  DomainError,
  type Emit,
  invalidArgument,
  itemResult,
  notFound,
  permissionDenied,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { ImportUserManagersRequest, ImportUsersRequest, UserImportRow } from '@assistants/proto/gen/identity/v1/imports';
import type { UserFields } from '@assistants/proto/gen/identity/v1/users';
import { usersBeyond, type Caller } from './caller';
import { refreshDynamicLists } from './dynamic-lists';
import { events } from './events';
import { hashInBulk, verifyInBulk } from './passwords';
import { requireMayGive } from './roles';
import { toGrant, type GrantRow, type RoleRow } from './roles.repo';
import { generationsOf, keepFingerprints, keptFingerprints, usersByKey } from './user-fingerprints';
import { ALL_COLUMNS, checkActivationDates, checkNotExternallyManaged, columnsOf, requireExternalWrite, same } from './users';
import { audiencesOf, loadUsers, toUser, USER_COLUMNS, USER_SELECT, USER_STORED_COLUMNS, type UserRow } from './users.repo';
import { checkPassword } from './validation';

/**
 * I2 by sets: a chunk of rows costs a fixed number of queries, not a few per row. The rows
 * are decided in JS against what a handful of queries load for the whole chunk (the users
 * the rows name, their organisations, managers, audiences, roles, lists, grants), with the
 * checks of the single commands (createUser, updateUser, setPassword: scope, covered grants,
 * externally managed users, unique logins and external ids, dates, roles the caller may
 * give); a row that fails is left out of every write. Then the rows that change are written
 * with one statement per table, the dynamic lists are refreshed once for the users that
 * changed, and each change publishes the events the single commands publish.
 *
 * A unique violation that the checks could not see coming (another writer at the same time)
 * rolls the chunk's writes back and the chunk goes row by row (`rowByRow`), where it fails
 * that row only.
 */

type Outcome = { failed: ItemResult } | { code: 'ADDED' | 'UPDATED' | 'UNCHANGED'; warnings: ItemResult[] };

/** What one row does, once decided. */
interface Plan {
  row: UserImportRow;
  id: string;
  existing?: UserRow;
  /** the user's columns after the row (create: all of them; update: current merged with the change) */
  merged?: Record<string, unknown>;
  /** columns an update changes */
  changed: string[];
  organisationPath: string;
  passwordHash?: Promise<string>;
  addAudiences: string[];
  removeAudiences: string[];
  grant: { roleId: string; organisationId: string }[];
  revoke: (GrantRow & { organisation_path: string })[];
  lists: string[];
  warnings: ItemResult[];
}

const COLUMN_TYPES: Record<string, string> = {
  birth_date: 'date',
  activation_date: 'date',
  expiration_date: 'date',
  disabled: 'boolean',
  organisation_id: 'uuid',
  manager_id: 'uuid',
  secondary_manager_id: 'uuid',
  hourly_cost: 'numeric',
  externally_managed: 'boolean',
  must_change_password: 'boolean',
};
/** A new user's columns that its row does not set (the table's defaults). */
const DEFAULTS: Record<string, unknown> = {
  ...Object.fromEntries(ALL_COLUMNS.map((c) => [c, COLUMN_TYPES[c] ? null : ''])),
  ext_id: null,
  two_factor: 'default',
  disabled: false,
  externally_managed: false,
  must_change_password: false,
};
const RECORD = ['id uuid', ...ALL_COLUMNS.map((c) => `${c} ${COLUMN_TYPES[c] ?? 'text'}`), 'password_hash text'].join(', ');

const rowError = (code: 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'PERMISSION_DENIED', column: string, message: string) =>
  new DomainError(code, `${column}: ${message}`, column);

const lower = (s: string | undefined | null) => (s ?? '').toLowerCase();

/** A password for a user the file gives none: 24 characters from 62, about 143 bits. */
export function generatedPassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(24), (b) => alphabet[b % 62]).join('');
}

export async function importUsersBySets(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportUsersRequest, 'batch'>,
  columnOf: (field: string | undefined) => string,
  rowByRow: () => Promise<ItemResult[]>,
): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const byExtId = req.matchOn === 'ext_id';
  const keyColumn = byExtId ? 'ext_id' : 'login';
  const keyOf = (r: UserImportRow) => lower(byExtId ? r.fields?.extId : r.fields?.login);
  const rows = req.rows;
  const has = (pick: (r: UserImportRow) => unknown) => rows.some((r) => pick(r) !== undefined);
  // The epoch, then the users the rows name with their generation read in the same statement
  // as their columns, before anything is decided (a fingerprint is kept only for a user still
  // at the generation its row was decided on; a user that changed since is found when it is
  // locked).
  const {
    rows: [{ n: epoch }],
  } = await tx.query<{ n: string }>('SELECT n FROM import_epoch');
  const { rows: found } = await tx.query<UserRow & { import_generation: string }>(usersByKey(USER_COLUMNS, keyColumn), [
    rows.map(keyOf).filter(Boolean),
  ]);
  const existingByKey = new Map(found.map((u) => [lower(byExtId ? u.ext_id : u.login), u]));
  const roleItems = rows.flatMap((r) => r.roles?.names ?? []).map(splitRole);
  const organisations = await byLowerKey<{ id: string; ext_id: string; path: string }>(
    tx,
    'SELECT id, ext_id, path, lower(ext_id) AS k FROM organisations WHERE lower(ext_id) = ANY($1)',
    [...rows.map((r) => r.organisationExtId), ...roleItems.flatMap((i) => (i ? [i.orgExtId] : []))],
  );
  const managers = await byLowerKey<{ id: string; path: string }>(
    tx,
    'SELECT u.id, o.path, lower(u.ext_id) AS k FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE lower(u.ext_id) = ANY($1)',
    rows.flatMap((r) => [r.managerExtId, r.secondaryManagerExtId]).filter((e): e is string => e !== undefined),
  );
  const audiences = has((r) => r.audiences)
    ? await byLowerKey<{ id: string; name: string }>(
        tx,
        'SELECT id, name, lower(name) AS k FROM audiences WHERE lower(name) = ANY($1)',
        rows.flatMap((r) => r.audiences?.names ?? []),
      )
    : new Map();
  const roles = has((r) => r.roles)
    ? await byLowerKey<RoleRow>(
        tx,
        'SELECT *, lower(name) AS k FROM roles WHERE lower(name) = ANY($1)',
        roleItems.flatMap((i) => (i ? [i.name] : [])),
      )
    : new Map<string, RoleRow>();
  const lists = has((r) => r.lists)
    ? await byLowerKey<{ id: string; path: string }>(
        tx,
        `SELECT DISTINCT ON (lower(l.name)) l.id, o.path, lower(l.name) AS k FROM lists l JOIN organisations o ON o.id = l.owner_organisation_id
          WHERE lower(l.name) = ANY($1) AND l.type = 'static' ORDER BY lower(l.name), l.created_at`,
        rows.flatMap((r) => r.lists?.names ?? []),
      )
    : new Map();
  const grants = new Map<string, (GrantRow & { organisation_path: string })[]>();
  if (has((r) => r.roles) && found.length > 0) {
    const { rows: all } = await tx.query<GrantRow & { organisation_path: string }>(
      `SELECT g.user_id, g.role_id, r.name AS role_name, g.organisation_id, r.permissions, o.path AS organisation_path
         FROM role_grants g JOIN roles r ON r.id = g.role_id JOIN organisations o ON o.id = g.organisation_id WHERE g.user_id = ANY($1)`,
      [found.map((u) => u.id)],
    );
    for (const g of all) grants.set(g.user_id, [...(grants.get(g.user_id) ?? []), g]);
  }
  const beyond = await usersBeyond(
    tx,
    caller,
    found.map((u) => u.id),
  );
  // Passwords: the new users' hashes and the checks of the existing ones' all start now, on
  // the thread pool (every core), while the rest of the chunk is decided.
  const verified = new Map<UserImportRow, Promise<boolean>>();
  if (req.updatePasswords) {
    for (const row of rows) {
      const existing = existingByKey.get(keyOf(row));
      if (existing && req.updateExisting && row.password !== undefined && !row.passwordGenerated) {
        verified.set(row, verifyInBulk(existing.password_hash, row.password!));
      }
    }
  }
  const hashes = new Map<UserImportRow, Promise<string> | DomainError>();
  const hashOf = (row: UserImportRow, password: string) => {
    if (!hashes.has(row)) {
      try {
        const checked = checkPassword('user_password', password);
        const promise = hashInBulk(checked);
        promise.catch(() => {}); // awaited when its row is written
        hashes.set(row, promise);
      } catch (error) {
        hashes.set(row, error as DomainError);
      }
    }
    const hash = hashes.get(row)!;
    if (hash instanceof DomainError) throw hash;
    return hash;
  };
  for (const row of rows) {
    if (!existingByKey.has(keyOf(row)) && row.password !== undefined) {
      try {
        hashOf(row, row.password);
      } catch {
        // its row says why
      }
    }
  }

  // The checks of the existing passwords, done (they ran while the rest was loaded): a row
  // is then decided without waiting (an await a row costs more than deciding it).
  const checked = new Map<UserImportRow, boolean | Error>();
  for (const [row, check] of verified) checked.set(row, await check.catch((error: Error) => error));

  // Each row decided, in file order: a failure leaves it out of everything after.
  const outcomes = new Map<UserImportRow, Outcome>();
  const plans: Plan[] = [];
  let planByRow: Map<UserImportRow, Plan> | undefined; // (planOf, once the valid plans are known)
  const fail = (row: UserImportRow, error: unknown) => {
    if (!(error instanceof DomainError)) throw error;
    outcomes.set(row, { failed: itemResult.failed(row.itemId, columnOf(error.field), error.code, error.message) });
  };
  for (const row of rows) {
    try {
      const plan = decide(row);
      if (plan) plans.push(plan);
      else outcomes.set(row, { code: 'UNCHANGED', warnings: [] });
    } catch (error) {
      fail(row, error);
    }
  }

  function decide(row: UserImportRow): Plan | undefined {
    const fields: UserFields = { ...row.fields } as UserFields;
    const key = keyOf(row);
    if (!key) throw rowError('INVALID_ARGUMENT', byExtId ? 'user_extid' : 'user_login', 'is empty: it is how users are matched');
    const existing = existingByKey.get(key);
    const organisation = organisations.get(lower(row.organisationExtId));
    if (!organisation) throw rowError('NOT_FOUND', 'org_extid', `no organisation with external id "${row.organisationExtId}"`);
    if (!scope.includesPath(organisation.path)) {
      throw rowError('PERMISSION_DENIED', 'org_extid', `organisation "${organisation.ext_id}" is outside your scope`);
    }
    if (existing && !scope.includesPath(existing.organisation_path!)) {
      throw rowError('PERMISSION_DENIED', 'user_login', `user "${existing.login}" is outside your scope`);
    }
    if (existing && !req.updateExisting) return undefined;
    fields.organisationId = organisation.id;
    if (req.externallyManaged) fields.externallyManaged = true;
    // The managers are set once every row is decided (one may be a new user further down).
    // (Left undefined, not deleted: a deleted property makes the object a slow dictionary.)
    fields.managerId = undefined;
    fields.secondaryManagerId = undefined;
    const plan: Plan = {
      row,
      id: existing?.id ?? randomUUID(),
      existing,
      changed: [],
      organisationPath: organisation.path,
      addAudiences: [],
      removeAudiences: [],
      grant: [],
      revoke: [],
      lists: [],
      warnings: [],
    };
    if (!existing) {
      const values = columnsOf({ ...fields, mustChangePassword: req.mustChangePassword });
      for (const [field, column] of [
        ['login', 'login'],
        ['lastName', 'last_name'],
        ['firstName', 'first_name'],
      ]) {
        if (!values.has(column)) throw invalidArgument(field, `${field} is required`);
      }
      plan.merged = { ...DEFAULTS, ...Object.fromEntries(values) };
      checkActivationDates(plan.merged);
      if (values.get('externally_managed') === true) requireExternalWrite(caller, organisation.path, String(values.get('login')));
      const password = row.password ?? (req.generatePasswords ? generatedPassword() : undefined);
      if (password === undefined)
        throw rowError('INVALID_ARGUMENT', 'user_password', 'is mandatory for a new user (or generate passwords)');
      plan.passwordHash = hashOf(row, password);
    } else {
      const values = columnsOf(fields);
      for (const [column, value] of values) {
        if (same((existing as unknown as Record<string, unknown>)[column], value)) values.delete(column);
      }
      plan.changed = [...values.keys()];
      plan.merged = pick(existing);
      for (const [column, value] of values) plan.merged[column] = value;
      if (values.size > 0) requireMayChange(existing);
      if (values.has('externally_managed')) requireExternalWrite(caller, existing.organisation_path!, existing.login);
      checkActivationDates(plan.merged);
      const check = checked.get(row);
      if (check instanceof Error) throw check;
      if (check === false) {
        requireMayChange(existing);
        plan.passwordHash = hashOf(row, row.password!);
      }
    }
    if (row.audiences) {
      const ids = row.audiences.names.map((n) => audiences.get(lower(n))?.id);
      const missing = row.audiences.names.filter((_n, i) => !ids[i]);
      if (missing.length > 0) throw rowError('NOT_FOUND', 'user_audiences', `no audience named ${missing.map((m) => `"${m}"`).join(', ')}`);
      const current = new Set((existing?.audiences ?? []).map((a) => a.id));
      plan.addAudiences = [...new Set(ids as string[])].filter((id) => !current.has(id));
      if (req.replaceAudiences) plan.removeAudiences = [...current].filter((id) => !ids.includes(id));
    }
    if (row.roles) decideRoles(plan, row.roles.names);
    for (const name of row.lists?.names ?? []) {
      const list = lists.get(lower(name));
      if (!list || !caller.holds('lists:write', list.path)) {
        plan.warnings.push(warning(row, 'List_name', `List_name: no static list "${name}" you may change: the user was not added to it`));
      } else plan.lists.push(list.id);
    }
    return plan;
  }

  /** updateUser's and setPassword's checks of the user changed. */
  function requireMayChange(user: UserRow) {
    const grant = beyond.get(user.id);
    if (grant) {
      throw permissionDenied(
        `user "${user.login}" holds the role "${grant.roleName}" with permissions you do not hold there: only an administrator who holds them can change this user`,
        'id',
      );
    }
    checkNotExternallyManaged(caller, user);
  }

  /** The roles named "Role:organisation external id", each one the caller may give there
   * (added; with `replaceRoles`, the others the caller may take back are taken back). */
  function decideRoles(plan: Plan, items: string[]) {
    const grantScope = caller.scope('roles:grant');
    for (const item of items) {
      const parsed = splitRole(item);
      if (!parsed) throw rowError('INVALID_ARGUMENT', 'user_roles', `"${item}" must be Role:organisation external id`);
      const role = roles.get(lower(parsed.name));
      if (!role) throw rowError('NOT_FOUND', 'user_roles', `no role named "${parsed.name}"`);
      const organisation = organisations.get(lower(parsed.orgExtId));
      if (!organisation) throw rowError('NOT_FOUND', 'user_roles', `no organisation with external id "${parsed.orgExtId}"`);
      if (!grantScope.includesPath(organisation.path))
        throw rowError('PERMISSION_DENIED', 'user_roles', `organisation "${parsed.orgExtId}" is outside your scope`);
      requireMayGive(caller, role, organisation.path, 'give', 'user_roles');
      if (!plan.grant.some((g) => g.roleId === role.id && g.organisationId === organisation.id))
        plan.grant.push({ roleId: role.id, organisationId: organisation.id });
    }
    const current = grants.get(plan.id) ?? [];
    const wanted = plan.grant;
    plan.grant = wanted.filter((w) => !current.some((g) => g.role_id === w.roleId && g.organisation_id === w.organisationId));
    if (req.replaceRoles) {
      // Only what the caller may take back goes; another administrator's grant stays.
      plan.revoke = current.filter(
        (g) =>
          !wanted.some((w) => w.roleId === g.role_id && w.organisationId === g.organisation_id) &&
          caller.missing(g.permissions, g.organisation_path) === undefined &&
          grantScope.includesPath(g.organisation_path),
      );
    }
  }

  // Logins and external ids stay unique: a row that would take one another user holds (or an
  // earlier row of the chunk took) fails, as the unique index would make it.
  const taken = { login: new Map<string, string>(), ext_id: new Map<string, string>() };
  const claims = (plan: Plan, column: 'login' | 'ext_id') =>
    plan.merged![column] && (!plan.existing || plan.changed.includes(column)) ? lower(plan.merged![column] as string) : '';
  const claiming = plans.filter((p) => claims(p, 'login') || claims(p, 'ext_id'));
  if (claiming.length > 0) {
    const { rows: holders } = await tx.query<{ id: string; login: string; ext_id: string | null }>(
      'SELECT id, lower(login) AS login, lower(ext_id) AS ext_id FROM users WHERE lower(login) = ANY($1) OR lower(ext_id) = ANY($2)',
      [claiming.map((p) => claims(p, 'login')).filter(Boolean), claiming.map((p) => claims(p, 'ext_id')).filter(Boolean)],
    );
    for (const h of holders) {
      taken.login.set(h.login, h.id);
      if (h.ext_id) taken.ext_id.set(h.ext_id, h.id);
    }
  }
  let valid = plans.filter((plan) => {
    try {
      for (const [column, field] of [
        ['login', 'login'],
        ['ext_id', 'extId'],
      ] as const) {
        const value = claims(plan, column);
        if (!value) continue;
        const holder = taken[column].get(value);
        if (holder && holder !== plan.id) {
          const label = column === 'login' ? 'login' : 'external id';
          throw alreadyExists(`${label} "${plan.merged![column]}" is already used by another user`, field);
        }
      }
      for (const column of ['login', 'ext_id'] as const) {
        const value = claims(plan, column);
        if (!value) continue;
        const before = lower(plan.existing?.[column]);
        if (before && taken[column].get(before) === plan.id) taken[column].delete(before);
        taken[column].set(value, plan.id);
      }
      return true;
    } catch (error) {
      fail(plan.row, error);
      return false;
    }
  });

  // The managers: a user of the chunk (its row applied) or already stored; a manager found
  // nowhere is a warning and the manager is left as it was.
  for (;;) {
    const chunkUsers = new Map<string, { id: string; path: string }>();
    for (const p of valid) {
      const extId = p.merged!.ext_id as string | null;
      if (extId) chunkUsers.set(lower(extId), { id: p.id, path: p.organisationPath });
    }
    const failedNow = valid.filter((plan) => {
      const { row, existing, merged } = plan;
      const others = plan.warnings.filter((w) => w.targetId !== 'user_manager_extid' && w.targetId !== 'user_alternate_manager_extid');
      const mine: ItemResult[] = [];
      try {
        for (const [column, field, name, extId] of [
          ['manager_id', 'managerId', 'user_manager_extid', row.managerExtId],
          ['secondary_manager_id', 'secondaryManagerId', 'user_alternate_manager_extid', row.secondaryManagerExtId],
        ] as const) {
          // (again from what the row found before, when a round is run again)
          merged![column] = existing ? existing[column] : null;
          plan.changed = plan.changed.filter((c) => c !== column);
          if (extId === undefined) continue;
          const manager = chunkUsers.get(lower(extId)) ?? managers.get(lower(extId));
          if (!manager) {
            mine.push(warning(row, name, `${name}: no user with external id "${extId}": the manager is left as it was`));
            continue;
          }
          if (manager.id === plan.id) throw invalidArgument(field, 'a user cannot be their own manager');
          if (!scope.includesPath(manager.path)) throw notFound(`no user with id ${manager.id}`, field);
          merged![column] = manager.id;
          if (existing && !same(existing[column], manager.id)) {
            requireMayChange(existing);
            plan.changed.push(column);
          }
        }
        plan.warnings = [...mine, ...others];
        return false;
      } catch (error) {
        fail(row, error);
        return true;
      }
    });
    if (failedNow.length === 0) break;
    // A row that failed here may be another row's manager: the managers are decided again.
    valid = valid.filter((p) => !failedNow.includes(p));
  }

  // The writes, one statement per table; what the checks could not see coming (a unique
  // violation from another writer) sends the chunk row by row.
  const created = valid.filter((p) => !p.existing);
  const updated = valid.filter((p) => p.existing && p.changed.length > 0);
  const passwords = new Map<string, string>();
  await Promise.all(valid.filter((p) => p.passwordHash).map(async (p) => passwords.set(p.id, await p.passwordHash!)));
  // The users read above were not locked (most rows of a file imported again change
  // nothing): those that change are locked now, and if one changed in between (another
  // writer), the chunk goes row by row.
  const touched = valid.filter(
    (p) =>
      p.existing &&
      (p.changed.length > 0 ||
        passwords.has(p.id) ||
        p.addAudiences.length + p.removeAudiences.length + p.grant.length + p.revoke.length + p.lists.length > 0),
  );
  if (touched.length > 0) {
    const ids = touched.map((p) => p.id);
    await tx.query('SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE', [ids]);
    // Their audiences, grants and memberships held too (a new one waits already: it needs the
    // user's row), then their generation read again: the one seen first, or the chunk goes
    // row by row.
    // (One index probe a user: as `user_id = ANY($1)` the planner read the whole table.)
    for (const table of ['user_audiences', 'role_grants', 'list_members']) {
      await tx.query(
        `SELECT 1 FROM unnest($1::uuid[]) AS v(id) CROSS JOIN LATERAL (SELECT 1 FROM ${table} t WHERE t.user_id = v.id FOR SHARE) held`,
        [ids],
      );
    }
    const now = await generationsOf(tx, ids);
    if (touched.some((p) => now.get(p.id) !== existingByKey.get(keyOf(p.row))!.import_generation)) return rowByRow();
  }
  let entered: { list_id: string; user_id: string; entered_at: Date }[] = [];
  if (created.length + touched.length === 0) return keep(new Set());
  // The users' rows as the writes below leave them (each statement returns them: the events
  // need no second read of the users).
  const after = new Map<string, UserRow>();
  const wrote = ({ rows: written }: { rows: UserRow[] }) => {
    for (const user of written) after.set(user.id, user);
  };
  await tx.query('SAVEPOINT import_users');
  try {
    if (created.length > 0) {
      wrote(
        await tx.query<UserRow>(
          `INSERT INTO users AS u (id, ${ALL_COLUMNS.join(', ')}, password_hash)
           SELECT * FROM jsonb_to_recordset($1) AS v(${RECORD}) RETURNING ${USER_STORED_COLUMNS}`,
          [JSON.stringify(created.map((p) => ({ ...p.merged, id: p.id, password_hash: passwords.get(p.id) })))],
        ),
      );
    }
    if (updated.length > 0) {
      wrote(
        await tx.query<UserRow>(
          `UPDATE users u SET (${ALL_COLUMNS.join(', ')}) = (${ALL_COLUMNS.map((c) => `v.${c}`).join(', ')}), updated_at = now()
             FROM jsonb_to_recordset($1) AS v(${RECORD}) WHERE u.id = v.id RETURNING ${USER_STORED_COLUMNS}`,
          [JSON.stringify(updated.map((p) => ({ ...p.merged, id: p.id })))],
        ),
      );
    }
    const newPasswords = valid.filter((p) => p.existing && passwords.has(p.id));
    if (newPasswords.length > 0) {
      wrote(
        await tx.query<UserRow>(
          `UPDATE users u SET password_hash = v.hash, updated_at = now() FROM unnest($1::uuid[], $2::text[]) AS v(id, hash)
            WHERE u.id = v.id RETURNING ${USER_STORED_COLUMNS}`,
          [newPasswords.map((p) => p.id), newPasswords.map((p) => passwords.get(p.id))],
        ),
      );
      // A new password ends the sessions opened with the old one.
      await tx.query('DELETE FROM sessions WHERE user_id = ANY($1)', [newPasswords.map((p) => p.id)]);
    }
    const pairs = (pick: (p: Plan) => string[]) => {
      const users: string[] = [];
      const others: string[] = [];
      for (const p of valid) for (const other of pick(p)) (users.push(p.id), others.push(other));
      return [users, others];
    };
    const [addUsers, addAudiences] = pairs((p) => p.addAudiences);
    if (addUsers.length > 0) {
      await tx.query(
        'INSERT INTO user_audiences (user_id, audience_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING',
        [addUsers, addAudiences],
      );
    }
    const [removeUsers, removeAudiences] = pairs((p) => p.removeAudiences);
    if (removeUsers.length > 0) {
      await tx.query('DELETE FROM user_audiences WHERE (user_id, audience_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))', [
        removeUsers,
        removeAudiences,
      ]);
    }
    // A user whose audiences alone changed is updated now; one created or updated above has
    // its updated_at at now() already (a second row version would fire the triggers again).
    const audiencesOnly = valid
      .filter((p) => p.existing && p.changed.length === 0 && !passwords.has(p.id) && p.addAudiences.length + p.removeAudiences.length > 0)
      .map((p) => p.id);
    if (audiencesOnly.length > 0) {
      wrote(
        await tx.query<UserRow>(`UPDATE users u SET updated_at = now() WHERE id = ANY($1) RETURNING ${USER_STORED_COLUMNS}`, [
          audiencesOnly,
        ]),
      );
    }
    const granting = valid.flatMap((p) => p.grant.map((g) => ({ ...g, userId: p.id })));
    if (granting.length > 0) {
      await tx.query(
        `INSERT INTO role_grants (user_id, role_id, organisation_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) ON CONFLICT DO NOTHING`,
        [granting.map((g) => g.userId), granting.map((g) => g.roleId), granting.map((g) => g.organisationId)],
      );
    }
    const revoking = valid.flatMap((p) => p.revoke);
    if (revoking.length > 0) {
      await tx.query(
        `DELETE FROM role_grants WHERE (user_id, role_id, organisation_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]))`,
        [revoking.map((g) => g.user_id), revoking.map((g) => g.role_id), revoking.map((g) => g.organisation_id)],
      );
    }
    const [listUsers, listIds] = pairs((p) => p.lists);
    if (listUsers.length > 0) {
      ({ rows: entered } = await tx.query<{ list_id: string; user_id: string; entered_at: Date }>(
        `INSERT INTO list_members (list_id, user_id) SELECT l, u FROM unnest($1::uuid[], $2::uuid[]) AS v(u, l)
         ON CONFLICT DO NOTHING RETURNING list_id, user_id, entered_at`,
        [listUsers, listIds],
      ));
    }
    await tx.query('RELEASE SAVEPOINT import_users');
  } catch (error) {
    if (!uniqueViolation(error)) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT import_users');
    return rowByRow();
  }

  // Dynamic lists follow the users whose columns or audiences changed, once for the chunk;
  // then each change's events, as the single commands publish them.
  const refreshed = new Set(
    [...created, ...updated]
      .map((p) => p.id)
      .concat(valid.filter((p) => p.addAudiences.length + p.removeAudiences.length > 0).map((p) => p.id)),
  );
  await refreshDynamicLists(tx, emit, { userIds: [...refreshed] });
  const enteredBy = new Map<string, typeof entered>();
  for (const e of entered) enteredBy.set(e.user_id, [...(enteredBy.get(e.user_id) ?? []), e]);
  const newGrants = new Map<string, GrantRow[]>();
  const granted = valid.filter((p) => p.grant.length > 0);
  if (granted.length > 0) {
    const { rows: loaded } = await tx.query<GrantRow>(
      `SELECT g.user_id, g.role_id, r.name AS role_name, g.organisation_id, r.permissions
         FROM role_grants g JOIN roles r ON r.id = g.role_id
        WHERE (g.user_id, g.role_id, g.organisation_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]))`,
      [
        granted.flatMap((p) => p.grant.map(() => p.id)),
        granted.flatMap((p) => p.grant.map((g) => g.roleId)),
        granted.flatMap((p) => p.grant.map((g) => g.organisationId)),
      ],
    );
    for (const g of loaded) newGrants.set(g.user_id, [...(newGrants.get(g.user_id) ?? []), g]);
  }
  const changing = valid.filter(
    (p) =>
      !p.existing ||
      p.changed.length > 0 ||
      passwords.has(p.id) ||
      refreshed.has(p.id) ||
      newGrants.has(p.id) ||
      p.revoke.length > 0 ||
      enteredBy.has(p.id),
  );
  // Their audiences read again only where the chunk changed them; the other users that
  // changed without a write to their row (a grant, a list) are as read and locked above.
  const audiencesNow = await audiencesOf(
    tx,
    changing.filter((p) => p.addAudiences.length + p.removeAudiences.length > 0).map((p) => p.id),
  );
  const users = new Map(
    changing.map((p) => {
      const row = after.get(p.id) ?? p.existing!;
      return [p.id, toUser({ ...row, audiences: audiencesNow.get(p.id) ?? p.existing?.audiences ?? [] })];
    }),
  );
  const written = valid.flatMap((plan) => {
    const user = users.get(plan.id);
    outcomes.set(plan.row, { code: !user ? 'UNCHANGED' : plan.existing ? 'UPDATED' : 'ADDED', warnings: plan.warnings });
    return user ? [{ plan, user }] : [];
  });
  // The events kind by kind (creations and changes, then passwords, audiences, grants,
  // revocations, lists): each user's keep their order, and the users' events of one subject
  // follow each other, so they travel in batches (events.ts).
  for (const { plan, user } of written) {
    if (!plan.existing) events.userCreated(emit, { user, changedFields: ALL_COLUMNS });
    else if (plan.changed.length > 0) events.userUpdated(emit, { user, changedFields: plan.changed });
  }
  for (const { plan, user } of written) {
    if (plan.existing && passwords.has(plan.id)) events.userUpdated(emit, { user, changedFields: ['password'] });
  }
  for (const { plan, user } of written) {
    if (plan.addAudiences.length + plan.removeAudiences.length > 0) events.userUpdated(emit, { user, changedFields: ['audiences'] });
  }
  for (const { plan } of written) for (const grant of newGrants.get(plan.id) ?? []) events.roleGranted(emit, { grant: toGrant(grant) });
  for (const { plan } of written) for (const grant of plan.revoke) events.roleRevoked(emit, { grant: toGrant(grant) });
  for (const { plan } of written) {
    for (const e of enteredBy.get(plan.id) ?? []) {
      events.listMemberEntered(emit, { listId: e.list_id, userId: plan.id, listType: 'static', enteredAt: e.entered_at.toISOString() });
    }
  }
  return keep(new Set([...created, ...touched].map((p) => p.id)));

  /** The fingerprints of the rows applied without error or warning, kept: for the users the
   * chunk wrote (`written`: locked since they were read, nobody else changed them), whatever
   * their generation after these writes; for the others, only at the generation seen first.
   * Then the results. */
  async function keep(written: Set<string>): Promise<ItemResult[]> {
    const final = results();
    const keptFingerprint = keptFingerprints(caller);
    const kept = rows.flatMap((row) => {
      const outcome = outcomes.get(row)!;
      if (row.fingerprint.length === 0 || 'failed' in outcome || outcome.warnings.length > 0) return [];
      const before = existingByKey.get(keyOf(row));
      const id = planOf(row)?.id ?? before?.id;
      if (id && written.has(id)) return [{ userId: id, fingerprint: keptFingerprint(row.fingerprint) }];
      const generation = before && before.id === id ? before.import_generation : undefined;
      return id && generation ? [{ userId: id, fingerprint: keptFingerprint(row.fingerprint), generation }] : [];
    });
    await keepFingerprints(tx, req.jobId, epoch, kept);
    return final;
  }

  function results(): ItemResult[] {
    for (const plan of valid) if (!outcomes.has(plan.row)) outcomes.set(plan.row, { code: 'UNCHANGED', warnings: plan.warnings });
    return rows.flatMap((row) => {
      const outcome = outcomes.get(row)!;
      if ('failed' in outcome) return [outcome.failed];
      const main =
        outcome.code === 'UNCHANGED'
          ? itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'nothing to change')
          : { ...itemResult.succeeded(row.itemId, outcome.code === 'ADDED' ? planOf(row)!.id : ''), code: outcome.code };
      return [main, ...outcome.warnings];
    });
  }

  function planOf(row: UserImportRow) {
    planByRow ??= new Map(valid.map((p) => [p.row, p]));
    return planByRow.get(row);
  }
}

function warning(row: UserImportRow, column: string, message: string): ItemResult {
  return itemResult.unchanged(row.itemId, column, 'WARNING', message);
}

/** The stored columns of a user that UserFields sets. (A loop: Object.fromEntries took
 * three times as long, a row of every chunk.) */
function pick(user: UserRow): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const c of ALL_COLUMNS) columns[c] = (user as unknown as Record<string, unknown>)[c];
  return columns;
}

function splitRole(item: string): { name: string; orgExtId: string } | undefined {
  const at = item.lastIndexOf(':');
  if (at <= 0 || at === item.length - 1) return undefined;
  return { name: item.slice(0, at).trim(), orgExtId: item.slice(at + 1).trim() };
}

/** Rows of a query by their `k` column (a lower-cased name or external id), for the given names. */
async function byLowerKey<T>(tx: Queryable, sql: string, names: string[]): Promise<Map<string, T>> {
  const keys = [...new Set(names.map(lower))];
  if (keys.length === 0) return new Map();
  const { rows } = await tx.query<T & { k: string }>(sql, [keys]);
  return new Map(rows.map((r) => [r.k, r]));
}

/** I2's last pass: the managers defined further down the file than their users' chunks.
 * Each row names a user (its key under match_on) and its managers' external ids; those found
 * are set with updateUser's checks (the user in the scope and covered, not externally
 * managed; the manager in the scope and not the user itself) and its event; those found
 * nowhere are warnings. */
export async function importUserManagers(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportUserManagersRequest, 'batch'>,
  columnOf: (field: string | undefined) => string,
): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const keyColumn = req.matchOn === 'ext_id' ? 'ext_id' : 'login';
  const { rows: users } = await tx.query<UserRow>(`${USER_SELECT} WHERE lower(u.${keyColumn}) = ANY($1) ORDER BY u.id FOR UPDATE OF u`, [
    [...new Set(req.rows.map((r) => lower(r.key)))],
  ]);
  const byKey = new Map(users.map((u) => [lower(keyColumn === 'login' ? u.login : u.ext_id), u]));
  const managers = await byLowerKey<{ id: string; path: string }>(
    tx,
    'SELECT u.id, o.path, lower(u.ext_id) AS k FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE lower(u.ext_id) = ANY($1)',
    req.rows.flatMap((r) => [r.managerExtId, r.secondaryManagerExtId]).filter((e): e is string => e !== undefined),
  );
  const beyond = await usersBeyond(
    tx,
    caller,
    users.map((u) => u.id),
  );
  const results: ItemResult[] = [];
  const changes: { user: UserRow; values: Map<string, string> }[] = [];
  for (const row of req.rows) {
    const warnings: ItemResult[] = [];
    try {
      const user = byKey.get(lower(row.key));
      if (!user || !scope.includesPath(user.organisation_path!))
        throw notFound(`no user with ${keyColumn === 'login' ? 'login' : 'external id'} "${row.key}"`, 'id');
      const values = new Map<string, string>();
      for (const [column, field, name, extId] of [
        ['manager_id', 'managerId', 'user_manager_extid', row.managerExtId],
        ['secondary_manager_id', 'secondaryManagerId', 'user_alternate_manager_extid', row.secondaryManagerExtId],
      ] as const) {
        if (extId === undefined) continue;
        const manager = managers.get(lower(extId));
        if (!manager) {
          warnings.push(
            itemResult.unchanged(
              row.itemId,
              name,
              'WARNING',
              `${name}: no user with external id "${extId}": the manager is left as it was`,
            ),
          );
          continue;
        }
        if (manager.id === user.id) throw invalidArgument(field, 'a user cannot be their own manager');
        if (!scope.includesPath(manager.path)) throw notFound(`no user with id ${manager.id}`, field);
        if (!same(user[column], manager.id)) values.set(column, manager.id);
      }
      if (values.size > 0) {
        const grant = beyond.get(user.id);
        if (grant) {
          throw permissionDenied(
            `user "${user.login}" holds the role "${grant.roleName}" with permissions you do not hold there: only an administrator who holds them can change this user`,
            'id',
          );
        }
        checkNotExternallyManaged(caller, user);
        changes.push({ user, values });
        results.push({ ...itemResult.succeeded(row.itemId), code: 'UPDATED' }, ...warnings);
      } else results.push(itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'nothing to change'), ...warnings);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      results.push(itemResult.failed(row.itemId, columnOf(error.field), error.code, error.message));
    }
  }
  if (changes.length === 0) return results;
  const ids = changes.map((c) => c.user.id);
  const column = (c: string) =>
    changes.map((ch) => (ch.values.has(c) ? ch.values.get(c)! : (ch.user as unknown as Record<string, string | null>)[c]));
  await tx.query(
    `UPDATE users u SET manager_id = v.m, secondary_manager_id = v.s, updated_at = now()
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS v(id, m, s) WHERE u.id = v.id`,
    [ids, column('manager_id'), column('secondary_manager_id')],
  );
  await refreshDynamicLists(tx, emit, { userIds: ids });
  const loaded = await loadUsers(tx, ids);
  changes.forEach((c, i) => events.userUpdated(emit, { user: loaded[i], changedFields: [...c.values.keys()] }));
  return results;
}
