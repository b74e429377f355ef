import { DomainError, type Emit, itemResult, type Queryable, ROOT_ORGANISATION_ID } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { ImportOrganisationsRequest, OrganisationImportRow } from '@assistants/proto/gen/identity/v1/imports';
import type { OrganisationFields } from '@assistants/proto/gen/identity/v1/organisations';
import type { Caller } from './caller';
import { createOrganisation, updateOrganisation } from './organisations';
import { findOrganisation, toOrganisation, type OrganisationRow } from './organisations.repo';
import { ResolvedScope } from './scope';

/** The imports that change identity (see proto/identity/v1/imports.proto): each row of a
 * chunk is applied in its own savepoint through the same commands as the single calls
 * (their checks, their events), so a failed row changes nothing and the others go on. */

const MAX_ROWS = 5_000;

/** Maps a row's failure to its result; a row's events are kept only when it succeeds. */
async function eachRow<R extends { itemId: string; parentExtId?: string }>(
  tx: Queryable,
  emit: Emit,
  rows: R[],
  apply: (row: R, emit: Emit, warn: (column: string, message: string) => void) => Promise<'ADDED' | 'UPDATED' | 'UNCHANGED'>,
  /** a row that fails this way may succeed once the other rows are in (a parent further down) */
  retryLater: (row: R, error: DomainError) => boolean,
  columnOf: (field: string | undefined) => string,
): Promise<ItemResult[]> {
  const byItem = new Map<string, ItemResult[]>();
  let pending = rows;
  for (;;) {
    const deferred: R[] = [];
    for (const row of pending) {
      const events: Parameters<Emit>[] = [];
      const warnings: ItemResult[] = [];
      await tx.query('SAVEPOINT import_row');
      try {
        const code = await apply(
          row,
          (...event) => void events.push(event),
          (column, message) => warnings.push(itemResult.unchanged(row.itemId, column, 'WARNING', message)),
        );
        await tx.query('RELEASE SAVEPOINT import_row');
        for (const event of events) emit(...event);
        const result =
          code === 'UNCHANGED'
            ? itemResult.unchanged(row.itemId, '', 'UNCHANGED', 'nothing to change')
            : { ...itemResult.succeeded(row.itemId), code };
        byItem.set(row.itemId, [result, ...warnings]);
      } catch (error) {
        await tx.query('ROLLBACK TO SAVEPOINT import_row');
        if (!(error instanceof DomainError)) throw error;
        if (pending.length > 1 && retryLater(row, error)) deferred.push(row);
        else byItem.set(row.itemId, [itemResult.failed(row.itemId, columnOf(error.field), error.code, error.message)]);
      }
    }
    // Rows that wait for another row: again, as long as each round lets one more through.
    if (deferred.length === 0 || deferred.length === pending.length) {
      for (const row of deferred) {
        byItem.set(row.itemId, [
          itemResult.failed(row.itemId, PARENT, 'NOT_FOUND', `${PARENT}: no organisation with external id "${row.parentExtId}"`),
        ]);
      }
      break;
    }
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
