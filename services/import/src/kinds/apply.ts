import { withContext } from '@assistants/kit';
import { Outcome, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { OrganisationImportRow, UserImportRow } from '@assistants/proto/gen/identity/v1/imports';
import type { UserFields } from '@assistants/proto/gen/identity/v1/users';
import { shownValue, type Issue, type KindDeclaration } from '../engine/columns';
import type { RowOutcome } from '../engine/process';
import type { ParsedRow } from '../engine/rows';
import type { KindOptions } from '../options';
import type { Upstreams } from '../upstreams';
import type { WelcomePasswords } from '../welcome-passwords';

/** One chunk of a job as the owning service gets it. */
export interface ChunkCall {
  jobId: string;
  actorId: string;
  dryRun: boolean;
  options: KindOptions;
  no: number;
  rows: ParsedRow[];
  /** what a kind keeps from chunk to chunk of one run of a job (a dry run's earlier rows) */
  state: Record<string, unknown>;
  /** where the generated passwords of the welcome mails wait until they are queued */
  welcomePasswords: WelcomePasswords;
}

/** How each kind's chunk goes to its owning service. */
export type Applier = (upstreams: Upstreams, call: ChunkCall) => Promise<RowOutcome[]>;

/** The owning service's results (item = the row's line) as the rows' outcomes and issues: the
 * result with a code other than WARNING is the row's; a WARNING result is a warning on the
 * column it names. */
export function outcomesOf(kind: KindDeclaration, rows: ParsedRow[], results: ItemResult[]): RowOutcome[] {
  const fieldOf = new Map(kind.columns.map((c) => [c.name, c.field]));
  const byName = new Map(kind.columns.map((c) => [c.name, c]));
  const columnOf = new Map(kind.columns.map((c) => [c.field, c.name]));
  const byLine = new Map<string, ItemResult[]>();
  for (const r of results) byLine.set(r.itemId, [...(byLine.get(r.itemId) ?? []), r]);
  return rows.map((row) => {
    const mine = byLine.get(String(row.line)) ?? [];
    const issue = (r: ItemResult, severity: Issue['severity']): Issue => {
      // The owning service names a column, or a field of the record.
      const column = fieldOf.has(r.targetId) ? r.targetId : (columnOf.get(r.targetId) ?? r.targetId);
      const value = shownValue(byName.get(column), row.cells[fieldOf.get(column) ?? ''] ?? '');
      return { line: row.line, column, value, severity, message: r.message };
    };
    const main = mine.find((r) => r.code !== 'WARNING');
    const issues = mine.filter((r) => r.code === 'WARNING').map((r) => issue(r, 'warning'));
    if (!main)
      return {
        outcome: 'failed',
        issues: [{ line: row.line, column: '', value: '', severity: 'error', message: 'no result for this row' }],
      };
    if (main.outcome === Outcome.OUTCOME_FAILED) return { outcome: 'failed', issues: [...issues, issue(main, 'error')] };
    if (main.outcome === Outcome.OUTCOME_UNCHANGED) return { outcome: 'unchanged', issues };
    return { outcome: main.code === 'ADDED' ? 'added' : 'updated', issues };
  });
}

export const header = (call: ChunkCall) => ({ idempotencyKey: call.dryRun ? '' : `import:${call.jobId}:${call.no}`, dryRun: call.dryRun });

/** A cell as an optional proto field: absent when empty. */
const opt = <T>(value: unknown): T | undefined => (value === null || value === undefined ? undefined : (value as T));

export const organisationsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r): OrganisationImportRow => ({
      itemId: String(r.line),
      extId: r.values.extId as string,
      label: r.values.label as string,
      parentExtId: opt(r.values.parentExtId),
      disabled: opt(r.values.disabled),
      description: opt(r.values.description),
      language: opt(r.values.language),
      addressLine1: opt(r.values.addressLine1),
      addressLine2: opt(r.values.addressLine2),
      zip: opt(r.values.zip),
      city: opt(r.values.city),
      country: opt(r.values.country),
      code: opt(r.values.code),
      budget: opt(r.values.budget),
      supervisorExtId: opt(r.values.supervisorExtId),
    }));
    // A dry run's chunks are each rolled back: identity applies the rows earlier chunks
    // applied again first, so that the file's own parents are there (organisation files are
    // small: they are kept in memory for the run).
    const earlierRows = call.dryRun ? ((call.state.earlierRows ??= []) as OrganisationImportRow[]) : [];
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.identity.imports.importOrganisations({
        batch: header(call),
        rows,
        updateNames: call.options.updateNames as boolean,
        updateHierarchy: call.options.updateHierarchy as boolean,
        onlyFilledCells: call.options.onlyFilledCells as boolean,
        earlierRows,
      }),
    );
    const outcomes = outcomesOf(kind, call.rows, result!.results);
    if (call.dryRun) rows.forEach((r, i) => outcomes[i].outcome !== 'failed' && earlierRows.push(r));
    return outcomes;
  };

/** The record fields of I2 that go to identity as UserFields, as they are named there. */
const USER_FIELDS = [
  'lastName',
  'firstName',
  'title',
  'login',
  'email',
  'extId',
  'disabled',
  'language',
  'birthDate',
  'activationDate',
  'expirationDate',
  'addressLine1',
  'addressLine2',
  'zip',
  'city',
  'country',
  'phone',
  'cellphone',
  'hourlyCost',
  ...Array.from({ length: 10 }, (_, i) => `custom${i + 1}`),
  'jobPosition',
] as const;

export const usersApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const onlyFilled = call.options.onlyFilledCells as boolean;
    // With the welcome mail, the importer makes the missing passwords: identity hashes them
    // and the mail carries them; they wait sealed until the mails are queued (a chunk
    // replayed after a kill sends the same ones).
    const welcome = call.options.sendWelcomeMail === true && call.options.generatePasswords === true;
    const needed = welcome ? call.rows.filter((r) => r.values.password === null || r.values.password === undefined) : [];
    const generated = await call.welcomePasswords.of(
      call,
      needed.map((r) => r.line),
    );
    const names = (value: unknown) => (Array.isArray(value) && value.length > 0 ? { names: value as string[] } : undefined);
    const rows = call.rows.map((r): UserImportRow => {
      const fields: Record<string, unknown> = {};
      for (const field of USER_FIELDS) {
        if (!(field in r.cells)) continue; // not a column of the file: left as it is
        const value = r.values[field];
        // An empty cell leaves the value ("only filled cells") or clears it.
        if (value !== null && value !== undefined) fields[field] = value;
        else if (!onlyFilled) fields[field] = field === 'disabled' ? false : '';
      }
      const password = opt<string>(r.values.password) ?? generated.get(String(r.line));
      return {
        itemId: String(r.line),
        fields: fields as UserFields,
        organisationExtId: r.values.organisationExtId as string,
        password,
        passwordGenerated: generated.has(String(r.line)),
        managerExtId: opt(r.values.managerExtId),
        secondaryManagerExtId: opt(r.values.secondaryManagerExtId),
        audiences: names(r.values.audiences),
        roles: names(r.values.roles),
        lists: names(r.values.lists),
      };
    });
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.identity.imports.importUsers({
        batch: header(call),
        rows,
        matchOn: call.options.matchOn === 'extId' ? 'ext_id' : 'login',
        updateExisting: call.options.updateExisting as boolean,
        updatePasswords: call.options.updatePasswords as boolean,
        generatePasswords: call.options.generatePasswords as boolean,
        mustChangePassword: call.options.mustChangePassword as boolean,
        replaceAudiences: call.options.replaceAudiences as boolean,
        replaceRoles: call.options.replaceRoles as boolean,
        externallyManaged: call.options.externallyManaged as boolean,
      }),
    );
    const outcomes = outcomesOf(kind, call.rows, result!.results);
    if (welcome && !call.dryRun) {
      for (const [i, row] of call.rows.entries()) {
        const password = generated.get(String(row.line));
        const added = result!.results.find((r) => r.itemId === String(row.line) && r.code === 'ADDED');
        if (!password || !added || outcomes[i].outcome !== 'added') continue;
        await withContext({ actorId: call.actorId }, () =>
          upstreams.notification.mails.sendWelcomeMail({
            idempotencyKey: `import:${call.jobId}:${row.line}`,
            userId: added.targetId,
            password,
            templateId: call.options.welcomeTemplateId as string,
          }),
        );
      }
    }
    return outcomes;
  };
