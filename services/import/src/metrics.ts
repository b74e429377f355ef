import { counter, scrapedGauge, type Database } from '@assistants/kit';

/** Rows the import worker recorded, by kind (I1, I2…), outcome and dry run or not. */
const importRows = counter('assistants_import_rows_total', 'import rows processed, by kind, outcome and dry run', [
  'kind',
  'outcome',
  'dry_run',
]);
const importJobs = counter('assistants_import_jobs_finished_total', 'import jobs finished, by kind and status', ['kind', 'status']);

/** A chunk of a job is recorded (committed): its rows by outcome. */
export function countImportRows(
  job: { kind: string; dry_run: boolean },
  counts: { added: number; updated: number; unchanged: number; rejected: number },
): void {
  const dryRun = String(job.dry_run);
  for (const outcome of ['added', 'updated', 'unchanged', 'rejected'] as const) {
    if (counts[outcome] > 0) importRows.inc({ kind: job.kind, outcome, dry_run: dryRun }, counts[outcome]);
  }
}

export function countImportJob(kind: string, status: 'completed' | 'failed'): void {
  importJobs.inc({ kind, status });
}

const jobs = scrapedGauge('assistants_import_jobs', 'import jobs not finished, by status', ['status']);
const oldestQueued = scrapedGauge('assistants_import_oldest_queued_job_age_seconds', 'age of the oldest queued import job (0 when none)');
const stalest = scrapedGauge(
  'assistants_import_running_job_idle_seconds',
  'longest time a running import job has gone without recording a chunk (0 when none runs)',
);

/** Jobs waiting and running, read at each scrape. A running job renews its lease at every
 * chunk: the time since its last renewal is how long it has made no progress. */
export async function collectImportMetrics(db: Database, leaseSeconds: number): Promise<void> {
  const { rows } = await db.query<{ queued: string; running: string; oldest_queued: string | null; idle: string | null }>(
    `SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
            count(*) FILTER (WHERE status = 'running') AS running,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'queued')) AS oldest_queued,
            extract(epoch FROM now() - min(lease_until - make_interval(secs => $1)) FILTER (WHERE status = 'running')) AS idle
       FROM jobs WHERE status IN ('queued', 'running')`,
    [leaseSeconds],
  );
  const [row] = rows;
  jobs.set({ status: 'queued' }, Number(row?.queued ?? 0));
  jobs.set({ status: 'running' }, Number(row?.running ?? 0));
  oldestQueued.set(Math.max(0, Number(row?.oldest_queued ?? 0)));
  stalest.set(Math.max(0, Number(row?.idle ?? 0)));
}
