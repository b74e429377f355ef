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

/** A page of what a job's chunks deferred (RowOutcome.deferred), for the kind's last pass. */
export interface FinishCall {
  jobId: string;
  actorId: string;
  dryRun: boolean;
  options: KindOptions;
  page: number;
  deferred: { line: number; data: Record<string, string> }[];
  /** dry runs: which of these values rows of the file gave (RowOutcome.provides) */
  provided(values: string[]): Promise<Set<string>>;
}

/** A kind's last pass after the file's last chunk, a page at a time: the issues it gives go
 * to the log like a chunk's. */
export type Finisher = (upstreams: Upstreams, call: FinishCall) => Promise<Issue[]>;

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

/** Every one of them, undefined (not sent): a row's fields start as a copy of it (an object
 * given them one by one becomes a slow dictionary: see the engine's blank rows). */
const BLANK_USER_FIELDS: Record<string, undefined> = Object.fromEntries(USER_FIELDS.map((f) => [f, undefined]));

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
      const fields: Record<string, unknown> = { ...BLANK_USER_FIELDS };
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
        // kept by identity for a re-import of the same row (not for a dry run: nothing is kept)
        fingerprint: (!call.dryRun && r.fingerprint) || Buffer.alloc(0),
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
        jobId: call.jobId,
      }),
    );
    const outcomes = outcomesOf(kind, call.rows, result!.results);
    deferManagers(call, outcomes);
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

/** The manager columns of I2 and their fields. */
const MANAGERS = [
  ['user_manager_extid', 'managerExtId'],
  ['user_alternate_manager_extid', 'secondaryManagerExtId'],
] as const;

const managerNotFound = (column: string, extId: string) => `${column}: no user with external id "${extId}": the manager is left as it was`;

/** A manager not found when its row is applied may be defined further down the file: its
 * warning waits for the last pass (usersFinisher), which sets it or gives the warning then. A
 * dry run notes the external ids its rows give (they are rolled back). */
function deferManagers(call: ChunkCall, outcomes: RowOutcome[]): void {
  const keyField = call.options.matchOn === 'extId' ? 'extId' : 'login';
  call.rows.forEach((row, i) => {
    const outcome = outcomes[i];
    if (outcome.outcome === 'failed') return;
    const later = outcome.issues.filter((issue) => issue.severity === 'warning' && MANAGERS.some(([column]) => column === issue.column));
    if (later.length > 0) {
      outcome.issues = outcome.issues.filter((issue) => !later.includes(issue));
      outcome.deferred = { key: String(row.values[keyField]) };
      for (const [column, field] of MANAGERS)
        if (later.some((l) => l.column === column)) outcome.deferred[field] = String(row.values[field]);
    }
    if (call.dryRun && typeof row.values.extId === 'string') outcome.provides = row.values.extId.toLowerCase();
  });
}

/** I2's last pass: the managers not found when their rows were applied are set now (a real
 * run: identity, under the key import:<job>:managers:<page>), or, for a dry run, looked for
 * among the external ids the file's applied rows gave; still nowhere: the warning. */
export const usersFinisher: Finisher = async (upstreams, call) => {
  const warning = (line: number, column: string, value: string, message: string): Issue => ({
    line,
    column,
    value,
    severity: 'warning',
    message,
  });
  if (call.dryRun) {
    const wanted = call.deferred.flatMap((d) => MANAGERS.flatMap(([, field]) => (d.data[field] ? [d.data[field].toLowerCase()] : [])));
    const provided = await call.provided([...new Set(wanted)]);
    return call.deferred.flatMap((d) =>
      MANAGERS.flatMap(([column, field]) =>
        d.data[field] && !provided.has(d.data[field].toLowerCase())
          ? [warning(d.line, column, d.data[field], managerNotFound(column, d.data[field]))]
          : [],
      ),
    );
  }
  const { result } = await withContext({ actorId: call.actorId }, () =>
    upstreams.identity.imports.importUserManagers({
      batch: { idempotencyKey: `import:${call.jobId}:managers:${call.page}`, dryRun: false },
      matchOn: call.options.matchOn === 'extId' ? 'ext_id' : 'login',
      rows: call.deferred.map((d) => ({
        itemId: String(d.line),
        key: d.data.key,
        managerExtId: d.data.managerExtId,
        secondaryManagerExtId: d.data.secondaryManagerExtId,
      })),
    }),
  );
  const byLine = new Map(call.deferred.map((d) => [String(d.line), d]));
  return result!.results.flatMap((r) => {
    const d = byLine.get(r.itemId)!;
    const field = MANAGERS.find(([column]) => column === r.targetId)?.[1] ?? 'managerExtId';
    if (r.code === 'WARNING') return [warning(d.line, r.targetId, d.data[field] ?? '', r.message)];
    if (r.outcome === Outcome.OUTCOME_FAILED) {
      return [warning(d.line, r.targetId || 'user_manager_extid', d.data[field] ?? '', `the manager could not be set: ${r.message}`)];
    }
    return [];
  });
};
