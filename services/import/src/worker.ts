import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { asDomainError, backoffDelayMs, withCorrelationId, type BackgroundWorker, type Database, type Logger } from '@assistants/kit';
import type { ImportConfig } from './config';
import { hasHeaderRow } from './engine/columns';
import { ImportFileError, type Encoding } from './engine/read';
import { KeysSpilled } from './engine/keys';
import { processFile, type Counts, type RowOutcome } from './engine/process';
import type { ParsedRow } from './engine/rows';
import { uploadBytes } from './jobs';
import { KINDS } from './kinds';
import { countImportJob, countImportRows } from './metrics';
import { APPLIERS, FINISHERS, UNCHANGED } from './kinds/appliers';
import type { Finisher } from './kinds/apply';
import type { Issue } from './engine/columns';
import { logLine } from './engine/files';
import type { Upstreams } from './upstreams';
import { wipeWelcomePasswords, WelcomePasswords } from './welcome-passwords';

/**
 * Runs the queued jobs, one at a time per replica. A job is leased (IMPORT_LEASE_SECONDS,
 * renewed at every chunk): a replica killed in the middle leaves a lease that runs out, and
 * another replica (or the same one restarted) takes the job over after its last recorded
 * chunk. A chunk's rows go to the owning service under the key import:<job>:<chunk>, so the
 * chunk that was being applied when the kill came is answered from what the service recorded:
 * no row is applied twice.
 */
export class ImportWorker implements BackgroundWorker {
  private readonly owner = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly welcomePasswords: WelcomePasswords;

  constructor(private readonly deps: { db: Database; upstreams: Upstreams; config: ImportConfig; logger: Logger }) {
    this.welcomePasswords = new WelcomePasswords(deps.db, deps.config.IMPORT_SECRET_KEY);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Looks for work now (a job was just queued on this replica). */
  poke(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    // A context of its own: not the one (and the deadline) of the call that poked it.
    this.timer = setTimeout(() => {
      this.running = withCorrelationId(undefined, () => this.loop())
        .catch((err) => this.deps.logger.warn({ err }, 'import worker: looking for jobs failed; trying again'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.deps.config.IMPORT_WORKER_POLL_MS);
        });
    }, ms);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const job = await this.claim();
      if (!job) return;
      try {
        await withCorrelationId(undefined, () => this.run(job));
      } catch (error) {
        // An upstream away or a database error: the lease runs out and the job is taken again.
        this.deps.logger.warn({ jobId: job.id, err: error }, 'import job interrupted; it resumes when its lease ends');
        return;
      }
    }
  }

  private async claim() {
    const { rows } = await this.deps.db.query<{
      id: string;
      upload_id: string;
      kind: string;
      dry_run: boolean;
      options: Record<string, boolean | string>;
      created_by: string;
      encoding: string | null;
    }>(
      `UPDATE jobs j SET status = 'running', lease_owner = $1, lease_until = now() + make_interval(secs => $2),
              started_at = coalesce(j.started_at, now())
         FROM uploads u
        WHERE u.id = j.upload_id AND j.id = (
          SELECT id FROM jobs WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
           ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING j.id, j.upload_id, j.kind, j.dry_run, j.options, j.created_by, u.encoding`,
      [this.owner, this.deps.config.IMPORT_LEASE_SECONDS],
    );
    return rows[0];
  }

  private async finish(job: NonNullable<Awaited<ReturnType<ImportWorker['claim']>>>, chunks: number, finish: Finisher): Promise<void> {
    const { db, config } = this.deps;
    await finishJob(this.deps, job, chunks, finish, async (no, issues) => {
      if (this.stopped) throw new Error('stopping');
      await db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE jobs SET lease_until = now() + make_interval(secs => $2) WHERE id = $1 AND lease_owner = $3`,
          [job.id, config.IMPORT_LEASE_SECONDS, this.owner],
        );
        if (rowCount === 0) throw new Error('the job went to another replica');
        const log = issues
          .sort((a, b) => a.line - b.line)
          .map(logLine)
          .join('');
        await tx.query(
          `INSERT INTO job_chunks (job_id, no, read, added, updated, unchanged, rejected, warnings, log, rejects)
           VALUES ($1, $2, 0, 0, 0, 0, 0, $3, $4, '')`,
          [job.id, no, issues.length, log],
        );
      });
    });
  }

  private async run(job: NonNullable<Awaited<ReturnType<ImportWorker['claim']>>>): Promise<void> {
    const { db, config, upstreams } = this.deps;
    const kind = KINDS[job.kind];
    const apply = APPLIERS[job.kind];
    // A dry run taken over starts over (it wrote nothing, and its later chunks need what the
    // earlier ones would have done); a real one goes on after its last recorded chunk.
    if (job.dry_run) {
      await db.transaction(async (tx) => {
        for (const table of ['job_chunks', 'job_deferred', 'job_provided', 'job_keys'])
          await tx.query(`DELETE FROM ${table} WHERE job_id = $1`, [job.id]);
      });
    }
    const { rows: done } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM job_chunks WHERE job_id = $1', [job.id]);
    const state: Record<string, unknown> = {};
    let bytesRead = 0;
    // Only this replica's lease lets a chunk be recorded: a replica that lost its job (paused
    // past its lease) stops at its next chunk.
    const stillMine = (p: number) => `lease_owner = $${p}`;
    try {
      const chunks = await processFile({
        kind,
        chunks: uploadBytes(db, job.upload_id, (n) => (bytesRead += n)),
        read: {
          encoding: (job.encoding ?? undefined) as Encoding | undefined,
          maxBytes: config.IMPORT_MAX_FILE_BYTES,
          maxRecordChars: config.IMPORT_MAX_RECORD_CHARS,
          header: hasHeaderRow(kind, job.options),
        },
        key: kind.keyOf?.(job.options),
        chunkSize: kind.chunkRows ?? config.IMPORT_CHUNK_ROWS,
        parallel: kind.parallelChunks,
        doneChunks: done[0].n,
        keys: new KeysSpilled(db, job.id, config.IMPORT_KEYS_IN_MEMORY),
        unchanged: UNCHANGED[job.kind]?.(upstreams, { id: job.id, actorId: job.created_by, options: job.options }),
        apply: (no, rows) =>
          againWhenAborted(
            () =>
              apply(upstreams, {
                jobId: job.id,
                actorId: job.created_by,
                dryRun: job.dry_run,
                options: job.options,
                no,
                rows,
                state,
                welcomePasswords: this.welcomePasswords,
              }),
            (attempt, error) =>
              this.deps.logger.warn(
                { jobId: job.id, chunk: no, attempt, err: error },
                'import chunk rolled back by a concurrent change; sent again',
              ),
          ).catch((error) => refusedChunk(error, rows)),
        onHeader: async (_header, rejectsHeader) => {
          await db.query('UPDATE jobs SET rejects_header = $2 WHERE id = $1', [job.id, rejectsHeader]);
        },
        onChunks: async (reports) => {
          if (this.stopped) throw new Error('stopping');
          await db.transaction(async (tx) => {
            const { rowCount } = await tx.query(
              `UPDATE jobs SET bytes_read = $2, lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND ${stillMine(4)}`,
              [job.id, bytesRead, config.IMPORT_LEASE_SECONDS, this.owner],
            );
            if (rowCount === 0) throw new Error('the job went to another replica');
            // One statement a table for all the chunks recorded together.
            const counts = (pick: (c: Counts) => number) => reports.map((r) => pick(r.counts));
            await tx.query(
              `INSERT INTO job_chunks (job_id, no, read, added, updated, unchanged, rejected, warnings, log, rejects)
               SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::text[], $10::bytea[])`,
              [
                job.id,
                reports.map((r) => r.no),
                counts((c) => c.read),
                counts((c) => c.added),
                counts((c) => c.updated),
                counts((c) => c.unchanged),
                counts((c) => c.rejected),
                counts((c) => c.warnings),
                reports.map((r) => r.log),
                reports.map((r) => r.rejects),
              ],
            );
            await wipeWelcomePasswords(
              tx,
              job.id,
              reports.map((r) => r.no),
            );
            const deferred = reports.flatMap((r) => r.deferred);
            if (deferred.length > 0) {
              await tx.query('INSERT INTO job_deferred (job_id, line, data) SELECT $1, * FROM unnest($2::int[], $3::jsonb[])', [
                job.id,
                deferred.map((d) => d.line),
                deferred.map((d) => JSON.stringify(d.data)),
              ]);
            }
            const provided = reports.flatMap((r) => r.provided);
            if (provided.length > 0) {
              await tx.query('INSERT INTO job_provided (job_id, value) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
                job.id,
                provided,
              ]);
            }
          });
          for (const report of reports) countImportRows(job, report.counts);
        },
      });
      const finish = FINISHERS[job.kind];
      if (finish) await this.finish(job, chunks, finish);
      const { rowCount } = await db.query(
        `UPDATE jobs SET status = 'completed', finished_at = now(), bytes_read = $2, lease_until = NULL WHERE id = $1 AND ${stillMine(3)}`,
        [job.id, bytesRead, this.owner],
      );
      if (rowCount) countImportJob(job.kind, 'completed');
    } catch (error) {
      if (!(error instanceof ImportFileError)) throw error;
      const { rowCount } = await db.query(
        `UPDATE jobs SET status = 'failed', finished_at = now(), file_error_line = $2, file_error = $3, lease_until = NULL
          WHERE id = $1 AND ${stillMine(4)}`,
        [job.id, error.line, error.message, this.owner],
      );
      if (rowCount) countImportJob(job.kind, 'failed');
    }
    // The job's keys served their purpose (a file of millions leaves as many rows).
    await db.query('DELETE FROM job_keys WHERE job_id = $1', [job.id]);
  }
}

/** The last pass (FINISHERS) over what the chunks deferred, a page of IMPORT_CHUNK_ROWS rows
 * at a time, each page recorded as one more chunk after the file's (numbers chunks, chunks +
 * 1…): a job resumed after a kill goes on after its last recorded page. */
async function finishJob(
  deps: { db: Database; upstreams: Upstreams; config: ImportConfig },
  job: { id: string; created_by: string; dry_run: boolean; options: Record<string, boolean | string> },
  chunks: number,
  finish: Finisher,
  record: (no: number, issues: Issue[]) => Promise<void>,
): Promise<void> {
  const { db, upstreams, config } = deps;
  const size = config.IMPORT_CHUNK_ROWS;
  const { rows: done } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM job_chunks WHERE job_id = $1 AND no >= $2', [
    job.id,
    chunks,
  ]);
  let page = done[0].n;
  // Keyset paging: the last line of the pages already done.
  const { rows: start } =
    page === 0
      ? { rows: [] }
      : await db.query<{ line: number }>('SELECT line FROM job_deferred WHERE job_id = $1 ORDER BY line OFFSET $2 LIMIT 1', [
          job.id,
          page * size - 1,
        ]);
  let after = page === 0 ? 0 : (start[0]?.line ?? Number.MAX_SAFE_INTEGER);
  for (; ; page++) {
    const { rows: deferred } = await db.query<{ line: number; data: Record<string, string> }>(
      'SELECT line, data FROM job_deferred WHERE job_id = $1 AND line > $2 ORDER BY line LIMIT $3',
      [job.id, after, size],
    );
    if (deferred.length === 0) return;
    const issues = await finish(upstreams, {
      jobId: job.id,
      actorId: job.created_by,
      dryRun: job.dry_run,
      options: job.options,
      page,
      deferred,
      provided: async (values) => {
        const { rows } = await db.query<{ value: string }>('SELECT value FROM job_provided WHERE job_id = $1 AND value = ANY($2)', [
          job.id,
          values,
        ]);
        return new Set(rows.map((r) => r.value));
      },
    });
    await record(chunks + page, issues);
    after = deferred[deferred.length - 1].line;
  }
}

/** Attempts of a chunk the owning service rolled back because it met a concurrent change. */
const ABORTED_ATTEMPTS = 5;

/** A chunk the owning service answered ABORTED (its transaction met a concurrent one, such as
 * the other chunk in flight, in a deadlock, and was rolled back whole) is sent again after a
 * short jittered pause (the kit's back-off, 100 ms doubling up to 1 s): it changed nothing, and the job would otherwise stop until its lease
 * runs out. Appliers can be called again for the same chunk (a replica taking a job over
 * does). After ABORTED_ATTEMPTS the error is thrown: the job resumes later. */
async function againWhenAborted<T>(call: () => Promise<T>, onRetry: (attempt: number, error: unknown) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= ABORTED_ATTEMPTS || asDomainError(error)?.code !== 'ABORTED') throw error;
      onRetry(attempt, error);
      await sleep(backoffDelayMs(attempt, 100, 1000));
    }
  }
}

/** The owning service refused a whole chunk for a reason that will not pass by waiting (the
 * importer lacks the permission altogether, lost its account...): every row of it is
 * rejected with that reason, instead of the job trying again forever. Anything else (a
 * service away, a deadline) is thrown: the job waits and resumes. */
function refusedChunk(error: unknown, rows: ParsedRow[]): RowOutcome[] {
  const refusal = asDomainError(error);
  if (!refusal || !['PERMISSION_DENIED', 'UNAUTHENTICATED', 'INVALID_ARGUMENT', 'FAILED_PRECONDITION'].includes(refusal.code)) throw error;
  return rows.map((row) => ({
    outcome: 'failed',
    issues: [{ line: row.line, column: '', value: '', severity: 'error', message: refusal.message }],
  }));
}
