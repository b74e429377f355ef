import { DomainError, type Emit, itemResult, type Queryable, ROOT_ORGANISATION_ID } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type {
  ImportOrganisationsRequest,
  ImportUserManagersRequest,
  ImportUsersRequest,
  OrganisationImportRow,
  UserImportRow,
} from '@assistants/proto/gen/identity/v1/imports';
import type { UserFields } from '@assistants/proto/gen/identity/v1/users';
import type { OrganisationFields } from '@assistants/proto/gen/identity/v1/organisations';
import type { Caller } from './caller';
import { events } from './events';
import { insertMembers } from './lists';
import { createOrganisation, updateOrganisation } from './organisations';
import { findOrganisation, toOrganisation, type OrganisationRow } from './organisations.repo';
import { hashInBulk, hashPassword, verifyPassword } from './passwords';
import { requireMayGive } from './roles';
import { toGrant, type GrantRow, type RoleRow } from './roles.repo';
import { ResolvedScope } from './scope';
import { createUser, emitAudiencesChanged, setPassword, updateUser } from './users';
import { findUser, toUser } from './users.repo';
import { generatedPassword, importUserManagers as importUserManagersBySets, importUsersBySets } from './user-imports';
import { checkPassword } from './validation';

/** The imports that change identity (see proto/identity/v1/imports.proto): each row of a
 * chunk is applied in its own savepoint through the same commands as the single calls
 * (their checks, their events), so a failed row changes nothing and the others go on. */

const MAX_ROWS = 5_000;

/** Maps a row's failure to its result; a row's events are kept only when it succeeds. */
async function eachRow<R extends { itemId: string }>(
  tx: Queryable,
  emit: Emit,
  rows: R[],
  apply: (
    row: R,
    emit: Emit,
    warn: (column: string, message: string) => void,
    final: boolean,
  ) => Promise<'ADDED' | 'UPDATED' | 'UNCHANGED' | { code: 'ADDED'; targetId: string }>,
  /** a row that fails this way may succeed once the other rows are in (a parent or a manager
   * further down the chunk): it is tried again after them, as long as each round lets one
   * more through, then a last time with `final` */
  retryLater: (row: R, error: DomainError) => boolean,
  columnOf: (field: string | undefined) => string,
): Promise<ItemResult[]> {
  const byItem = new Map<string, ItemResult[]>();
  let pending = rows;
  let final = false;
  for (;;) {
    const deferred: R[] = [];
    for (const row of pending) {
      const events: Parameters<Emit>[] = [];
      const warnings: ItemResult[] = [];
      await tx.query('SAVEPOINT import_row');
      try {
        const outcome = await apply(
          row,
          (...event) => void events.push(event),
          (column, message) => warnings.push(itemResult.unchanged(row.itemId, column, 'WARNING', message)),
          final,
        );
        await tx.query('RELEASE SAVEPOINT import_row');
        for (const event of events) emit(...event);
        const [code, targetId] = typeof outcome === 'string' ? [outcome, ''] : [outcome.code, outcome.targetId];
        const result =
          code === 'UNCHANGED'
            ? itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'nothing to change')
            : { ...itemResult.succeeded(row.itemId, targetId), code };
        byItem.set(row.itemId, [result, ...warnings]);
      } catch (error) {
        await tx.query('ROLLBACK TO SAVEPOINT import_row');
        if (!(error instanceof DomainError)) throw error;
        if (!final && retryLater(row, error)) deferred.push(row);
        else byItem.set(row.itemId, [itemResult.failed(row.itemId, columnOf(error.field), error.code, error.message)]);
      }
    }
    if (deferred.length === 0) break;
    final = deferred.length === pending.length;
    pending = deferred;
  }
  return rows.flatMap((r) => byItem.get(r.itemId)!);
}

const PARENT = 'parent_extid';

/** The file column of a field the organisation commands name in their errors. */
const ORGANISATION_COLUMNS: Record<string, string> = {
  extId: 'org_extid',
  label: 'org_label',
  parentId: PARENT,
  description: 'org_description',
  language: 'org_language',
  addressLine1: 'org_address1',
  addressLine2: 'org_address2',
  zip: 'org_zip',
  city: 'org_city',
  country: 'org_country',
  code: 'org_code',
  budget: 'org_budget',
  supervisorId: 'org_supervisor_extid',
};

function rowError(code: 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'PERMISSION_DENIED', column: string, message: string) {
  return new DomainError(code, `${column}: ${message}`, column);
}

async function organisationByExtId(tx: Queryable, extId: string, lock = false): Promise<OrganisationRow | undefined> {
  try {
    return await findOrganisation(tx, ResolvedScope.everything, { extId }, 'extId', lock);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** I1: creates the organisations the file names and updates the others (options: names,
 * hierarchy, only the filled cells). Permission organisations:write on the organisation, and
 * on the parent it goes under. */
export async function importOrganisations(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportOrganisationsRequest, 'batch'>,
  dryRun: boolean,
): Promise<ItemResult[]> {
  const scope = caller.scope('organisations:write');
  if (req.rows.length > MAX_ROWS) throw rowError('INVALID_ARGUMENT', 'rows', `at most ${MAX_ROWS} rows per call`);
  if (req.earlierRows.length > 0) {
    if (!dryRun) throw rowError('INVALID_ARGUMENT', 'earlierRows', 'earlier rows are for dry runs only');
    await applyOrganisationRows(tx, emit, caller, scope, { ...req, rows: req.earlierRows, earlierRows: [] });
  }
  return applyOrganisationRows(tx, emit, caller, scope, req);
}

async function applyOrganisationRows(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  scope: ResolvedScope,
  req: Omit<ImportOrganisationsRequest, 'batch'>,
): Promise<ItemResult[]> {
  const rows = req.rows;
  return eachRow(
    tx,
    emit,
    rows,
    async (row: OrganisationImportRow, rowEmit, warn) => {
      const existing = await organisationByExtId(tx, row.extId, true);
      if (existing && !scope.includesPath(existing.path)) {
        throw rowError('PERMISSION_DENIED', 'org_extid', `organisation "${existing.ext_id}" is outside your scope`);
      }
      let parent: OrganisationRow | undefined;
      if (row.parentExtId !== undefined && (!existing || req.updateHierarchy)) {
        parent = await organisationByExtId(tx, row.parentExtId);
        if (!parent) throw rowError('NOT_FOUND', PARENT, `no organisation with external id "${row.parentExtId}"`);
        if (!scope.includesPath(parent.path)) {
          throw rowError('PERMISSION_DENIED', PARENT, `organisation "${parent.ext_id}" is outside your scope`);
        }
      } else if (!existing && !scope.all) {
        throw rowError('PERMISSION_DENIED', PARENT, 'a new organisation goes under the root, which is outside your scope: give its parent');
      }
      const cell = (value: string | undefined) => (value !== undefined ? value : req.onlyFilledCells && existing ? undefined : '');
      const fields: OrganisationFields = {
        label: !existing || req.updateNames ? row.label : undefined,
        disabled: row.disabled ?? (req.onlyFilledCells && existing ? undefined : false),
        description: cell(row.description),
        language: cell(row.language),
        addressLine1: cell(row.addressLine1),
        addressLine2: cell(row.addressLine2),
        zip: cell(row.zip),
        city: cell(row.city),
        country: cell(row.country),
        code: cell(row.code),
        budget: cell(row.budget),
      };
      if (row.supervisorExtId !== undefined) {
        const { rows: found } = await tx.query<{ id: string }>('SELECT id FROM users WHERE lower(ext_id) = lower($1)', [
          row.supervisorExtId,
        ]);
        if (found[0]) fields.supervisorId = found[0].id;
        else
          warn(
            'org_supervisor_extid',
            `org_supervisor_extid: no user with external id "${row.supervisorExtId}": the supervisor is left as it was`,
          );
      } else if (!(req.onlyFilledCells && existing)) fields.supervisorId = '';
      if (!existing) {
        await createOrganisation(tx, rowEmit, caller, { ...fields, extId: row.extId, parentId: parent?.id ?? ROOT_ORGANISATION_ID });
        return 'ADDED';
      }
      if (parent && parent.id !== existing.parent_id) fields.parentId = parent.id;
      const before = toOrganisation(existing).updatedAt;
      const after = await updateOrganisation(tx, rowEmit, caller, existing.id, fields);
      return after.updatedAt === before ? 'UNCHANGED' : 'UPDATED';
    },
    (row, error) =>
      error.code === 'NOT_FOUND' &&
      error.field === PARENT &&
      rows.some((r) => r !== row && r.extId.toLowerCase() === row.parentExtId?.toLowerCase()),
    (field) => ORGANISATION_COLUMNS[field ?? ''] ?? field ?? '',
  );
}

/** The file column of a user field (errors of the user commands name the field). */
const USER_COLUMNS: Record<string, string> = {
  login: 'user_login',
  extId: 'user_extid',
  lastName: 'user_lname',
  firstName: 'user_fname',
  title: 'user_tname',
  email: 'user_email',
  language: 'user_culture',
  birthDate: 'birth_date',
  activationDate: 'user_activation_date',
  expirationDate: 'user_expiration_date',
  organisationId: 'org_extid',
  managerId: 'user_manager_extid',
  secondaryManagerId: 'user_alternate_manager_extid',
  hourlyCost: 'user_hourly_cost',
  jobPosition: 'job_position_id',
  externallyManaged: 'user_login',
  id: 'user_login',
};

/** I2: creates the users the file names and updates the others (see ImportUsersRequest), by
 * sets (user-imports.ts), with the checks and the events of the single commands. */
export async function importUsers(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportUsersRequest, 'batch'>,
): Promise<ItemResult[]> {
  caller.scope('users:write');
  if (req.rows.length > MAX_ROWS) throw rowError('INVALID_ARGUMENT', 'rows', `at most ${MAX_ROWS} rows per call`);
  return importUsersBySets(tx, emit, caller, req, userColumn, () => importUsersRowByRow(tx, emit, caller, req));
}

/** I2's last pass: the managers further down the file than their users' chunks. */
export async function importUserManagers(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportUserManagersRequest, 'batch'>,
): Promise<ItemResult[]> {
  if (req.rows.length > MAX_ROWS) throw rowError('INVALID_ARGUMENT', 'rows', `at most ${MAX_ROWS} rows per call`);
  return importUserManagersBySets(tx, emit, caller, req, userColumn);
}

const userColumn = (field: string | undefined) => USER_COLUMNS[field ?? ''] ?? field ?? '';

/** I2 one row after another, each in its savepoint, through the single commands: what a
 * chunk falls back to when its set-based writes meet a unique violation the checks did not
 * see coming (another writer at the same time): then only that row fails. */
async function importUsersRowByRow(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: Omit<ImportUsersRequest, 'batch'>,
): Promise<ItemResult[]> {
  const scope = caller.scope('users:write');
  const byExtId = req.matchOn === 'ext_id';
  const chunkExtIds = new Set(req.rows.map((r) => r.fields?.extId?.toLowerCase()).filter(Boolean));
  const hashes = await newUsersHashes(tx, req, byExtId);
  const MANAGER = 'user_manager_extid';

  return eachRow(
    tx,
    emit,
    req.rows,
    async (row: UserImportRow, rowEmit, warn, final) => {
      const fields: UserFields = { ...row.fields };
      const ref = byExtId ? { extId: fields.extId ?? '' } : { login: fields.login ?? '' };
      if (!ref.extId && !ref.login)
        throw rowError('INVALID_ARGUMENT', byExtId ? 'user_extid' : 'user_login', 'is empty: it is how users are matched');
      const existing = await findUser(tx, ResolvedScope.everything, ref, true).catch((error) => {
        if (error instanceof DomainError && error.code === 'NOT_FOUND') return undefined;
        throw error;
      });
      const organisation = await organisationByExtId(tx, row.organisationExtId);
      if (!organisation) throw rowError('NOT_FOUND', 'org_extid', `no organisation with external id "${row.organisationExtId}"`);
      if (!scope.includesPath(organisation.path)) {
        throw rowError('PERMISSION_DENIED', 'org_extid', `organisation "${organisation.ext_id}" is outside your scope`);
      }
      if (existing && !scope.includesPath(existing.organisation_path!)) {
        throw rowError('PERMISSION_DENIED', 'user_login', `user "${existing.login}" is outside your scope`);
      }
      if (existing && !req.updateExisting) return 'UNCHANGED';
      fields.organisationId = organisation.id;
      if (req.externallyManaged) fields.externallyManaged = true;
      for (const [field, column, extId] of [
        ['managerId', MANAGER, row.managerExtId],
        ['secondaryManagerId', 'user_alternate_manager_extid', row.secondaryManagerExtId],
      ] as const) {
        if (extId === undefined) continue;
        const { rows: found } = await tx.query<{ id: string }>('SELECT id FROM users WHERE lower(ext_id) = lower($1)', [extId]);
        if (found[0]) fields[field] = found[0].id;
        else if (!final && chunkExtIds.has(extId.toLowerCase()))
          throw rowError('NOT_FOUND', MANAGER, `no user with external id "${extId}" yet`);
        else warn(column, `${column}: no user with external id "${extId}": the manager is left as it was`);
      }

      let changed = false;
      let userId: string;
      if (!existing) {
        const password = row.password ?? (req.generatePasswords ? generatedPassword() : undefined);
        if (password === undefined)
          throw rowError('INVALID_ARGUMENT', 'user_password', 'is mandatory for a new user (or generate passwords)');
        const user = await createUser(tx, rowEmit, caller, {
          fields: { ...fields, mustChangePassword: req.mustChangePassword },
          passwordHash: await (hashes.get(row.itemId) ?? hashPassword(checkPassword('user_password', password))),
          audienceIds: [],
        });
        userId = user.id;
      } else {
        userId = existing.id;
        if (byExtId && fields.login === undefined) delete fields.login;
        const updated = await updateUser(tx, rowEmit, caller, existing.id, fields);
        changed = updated.updatedAt !== toUser(existing).updatedAt;
        if (
          req.updatePasswords &&
          row.password !== undefined &&
          !row.passwordGenerated &&
          !(await verifyPassword(existing.password_hash, row.password))
        ) {
          await setPassword(tx, rowEmit, caller, existing.id, {
            passwordHash: await hashPassword(checkPassword('user_password', row.password)),
            mustChangePassword: existing.must_change_password,
          });
          changed = true;
        }
      }

      if (row.audiences) changed = (await importAudiences(tx, rowEmit, userId, row.audiences.names, req.replaceAudiences)) || changed;
      if (row.roles) changed = (await importRoles(tx, rowEmit, caller, userId, row.roles.names, req.replaceRoles)) || changed;
      if (row.lists) {
        for (const name of row.lists.names) {
          const { rows: lists } = await tx.query<{ id: string; path: string }>(
            `SELECT l.id, o.path FROM lists l JOIN organisations o ON o.id = l.owner_organisation_id
              WHERE lower(l.name) = lower($1) AND l.type = 'static' ORDER BY l.created_at LIMIT 1`,
            [name],
          );
          if (!lists[0] || !caller.holds('lists:write', lists[0].path)) {
            warn('List_name', `List_name: no static list "${name}" you may change: the user was not added to it`);
          } else if ((await insertMembers(tx, rowEmit, lists[0].id, [userId])).length > 0) changed = true;
        }
      }
      return !existing ? { code: 'ADDED', targetId: userId } : changed ? 'UPDATED' : 'UNCHANGED';
    },
    (_row, error) => error.field === MANAGER && error.code === 'NOT_FOUND',
    (field) => USER_COLUMNS[field ?? ''] ?? field ?? '',
  );
}

/** The password hashes of the rows that will create users, all started at once: argon2 runs
 * on the thread pool, so the chunk's hashes use every core instead of one after another. A
 * password too weak is left to its row, which fails on it. */
async function newUsersHashes(
  tx: Queryable,
  req: Omit<ImportUsersRequest, 'batch'>,
  byExtId: boolean,
): Promise<Map<string, Promise<string>>> {
  const keyOf = (r: UserImportRow) => ((byExtId ? r.fields?.extId : r.fields?.login) ?? '').toLowerCase();
  const { rows } = await tx.query<{ k: string }>(
    `SELECT lower(${byExtId ? 'ext_id' : 'login'}) AS k FROM users WHERE lower(${byExtId ? 'ext_id' : 'login'}) = ANY($1)`,
    [req.rows.map(keyOf)],
  );
  const existing = new Set(rows.map((r) => r.k));
  const hashes = new Map<string, Promise<string>>();
  for (const row of req.rows) {
    if (row.password === undefined || existing.has(keyOf(row))) continue;
    try {
      const password = checkPassword('user_password', row.password);
      hashes.set(row.itemId, hashInBulk(password));
    } catch {
      // its row says why
    }
  }
  return hashes;
}

/** The audiences named (adds them; with `replace`, removes the others). Whether it changed. */
async function importAudiences(tx: Queryable, emit: Emit, userId: string, names: string[], replace: boolean): Promise<boolean> {
  const { rows } = await tx.query<{ id: string; name: string }>('SELECT id, name FROM audiences WHERE lower(name) = ANY($1)', [
    names.map((n) => n.toLowerCase()),
  ]);
  const missing = names.filter((n) => !rows.some((r) => r.name.toLowerCase() === n.toLowerCase()));
  if (missing.length > 0) throw rowError('NOT_FOUND', 'user_audiences', `no audience named ${missing.map((m) => `"${m}"`).join(', ')}`);
  const ids = rows.map((r) => r.id);
  const added = await tx.query('INSERT INTO user_audiences (user_id, audience_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING', [
    userId,
    ids,
  ]);
  const removed = replace
    ? await tx.query('DELETE FROM user_audiences WHERE user_id = $1 AND NOT (audience_id = ANY($2))', [userId, ids])
    : { rowCount: 0 };
  if (!added.rowCount && !removed.rowCount) return false;
  await tx.query('UPDATE users SET updated_at = now() WHERE id = $1', [userId]);
  await emitAudiencesChanged(tx, emit, [userId]);
  return true;
}

/** The roles named "Role:organisation external id", each one the caller may give there
 * (adds them; with `replace`, takes back the others the caller may take back). */
async function importRoles(tx: Queryable, emit: Emit, caller: Caller, userId: string, items: string[], replace: boolean): Promise<boolean> {
  const scope = caller.scope('roles:grant');
  const wanted: { roleId: string; organisationId: string }[] = [];
  for (const item of items) {
    const at = item.lastIndexOf(':');
    if (at <= 0 || at === item.length - 1)
      throw rowError('INVALID_ARGUMENT', 'user_roles', `"${item}" must be Role:organisation external id`);
    const [name, orgExtId] = [item.slice(0, at).trim(), item.slice(at + 1).trim()];
    const { rows } = await tx.query<RoleRow>('SELECT * FROM roles WHERE lower(name) = lower($1)', [name]);
    if (!rows[0]) throw rowError('NOT_FOUND', 'user_roles', `no role named "${name}"`);
    const organisation = await organisationByExtId(tx, orgExtId);
    if (!organisation) throw rowError('NOT_FOUND', 'user_roles', `no organisation with external id "${orgExtId}"`);
    if (!scope.includesPath(organisation.path))
      throw rowError('PERMISSION_DENIED', 'user_roles', `organisation "${orgExtId}" is outside your scope`);
    requireMayGive(caller, rows[0], organisation.path, 'give', 'user_roles');
    wanted.push({ roleId: rows[0].id, organisationId: organisation.id });
  }
  const { rows: granted } = await tx.query<{ role_id: string; organisation_id: string }>(
    `INSERT INTO role_grants (user_id, role_id, organisation_id)
     SELECT $1, r, o FROM unnest($2::uuid[], $3::uuid[]) AS w(r, o) ON CONFLICT DO NOTHING RETURNING role_id, organisation_id`,
    [userId, wanted.map((w) => w.roleId), wanted.map((w) => w.organisationId)],
  );
  let changed = granted.length > 0;
  const all = await tx.query<GrantRow & { organisation_path: string }>(
    `SELECT g.user_id, g.role_id, r.name AS role_name, g.organisation_id, r.permissions, o.path AS organisation_path
       FROM role_grants g JOIN roles r ON r.id = g.role_id JOIN organisations o ON o.id = g.organisation_id WHERE g.user_id = $1`,
    [userId],
  );
  for (const g of all.rows) {
    const isNew = granted.some((n) => n.role_id === g.role_id && n.organisation_id === g.organisation_id);
    if (isNew) events.roleGranted(emit, { grant: toGrant(g) });
    else if (replace && !wanted.some((w) => w.roleId === g.role_id && w.organisationId === g.organisation_id)) {
      // Only what the caller may take back goes; another administrator's grant stays.
      if (caller.missing(g.permissions, g.organisation_path) !== undefined || !scope.includesPath(g.organisation_path)) continue;
      await tx.query('DELETE FROM role_grants WHERE user_id = $1 AND role_id = $2 AND organisation_id = $3', [
        userId,
        g.role_id,
        g.organisation_id,
      ]);
      events.roleRevoked(emit, { grant: toGrant(g) });
      changed = true;
    }
  }
  return changed;
}
