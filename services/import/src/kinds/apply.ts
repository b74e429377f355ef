import { withContext } from '@assistants/kit';
import { Outcome, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { OrganisationImportRow } from '@assistants/proto/gen/identity/v1/imports';
import type { Issue, KindDeclaration } from '../engine/columns';
import type { RowOutcome } from '../engine/process';
import type { ParsedRow } from '../engine/rows';
import type { KindOptions } from '../options';
import type { Upstreams } from '../upstreams';

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
}

/** How each kind's chunk goes to its owning service. */
export type Applier = (upstreams: Upstreams, call: ChunkCall) => Promise<RowOutcome[]>;

/** The owning service's results (item = the row's line) as the rows' outcomes and issues: the
 * result with a code other than WARNING is the row's; a WARNING result is a warning on the
 * column it names. */
export function outcomesOf(kind: KindDeclaration, rows: ParsedRow[], results: ItemResult[]): RowOutcome[] {
  const fieldOf = new Map(kind.columns.map((c) => [c.name, c.field]));
  const byLine = new Map<string, ItemResult[]>();
  for (const r of results) byLine.set(r.itemId, [...(byLine.get(r.itemId) ?? []), r]);
  return rows.map((row) => {
    const mine = byLine.get(String(row.line)) ?? [];
    const issue = (r: ItemResult, severity: Issue['severity']): Issue => ({
      line: row.line,
      column: r.targetId,
      value: row.cells[fieldOf.get(r.targetId) ?? ''] ?? '',
      severity,
      message: r.message,
    });
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

const header = (call: ChunkCall) => ({ idempotencyKey: call.dryRun ? '' : `import:${call.jobId}:${call.no}`, dryRun: call.dryRun });

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
