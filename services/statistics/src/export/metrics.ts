import { counter, scrapedGauge, type Database } from '@assistants/kit';

const exportRows = counter('assistants_export_rows_total', 'rows written to export files (an export started over counts again)');
const exportsFinished = counter('assistants_exports_finished_total', 'exports finished, by status', ['status']);

export function countExportRows(rows: number): void {
  if (rows > 0) exportRows.inc(rows);
}

export function countExport(status: 'done' | 'failed'): void {
  exportsFinished.inc({ status });
}

const exportJobs = scrapedGauge('assistants_exports', 'exports not finished, by status', ['status']);
const oldest = scrapedGauge('assistants_export_oldest_unfinished_age_seconds', 'age of the oldest export not finished (0 when none)');

/** Exports waiting and running, read at each scrape. */
export async function collectExportMetrics(db: Database): Promise<void> {
  const { rows } = await db.query<{ status: string; n: string; age: string | null }>(
    `SELECT status, count(*) AS n, extract(epoch FROM now() - min(created_at)) AS age
       FROM exports WHERE status IN ('queued', 'running') GROUP BY status`,
  );
  exportJobs.set({ status: 'queued' }, 0);
  exportJobs.set({ status: 'running' }, 0);
  for (const row of rows) exportJobs.set({ status: row.status }, Number(row.n));
  oldest.set(Math.max(0, ...rows.map((r) => Number(r.age ?? 0))));
}
