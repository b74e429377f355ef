import { randomUUID } from 'node:crypto';
import { identityAuthority } from '@assistants/identity/client';
import {
  ALL_PERMISSIONS,
  checkId,
  notFound,
  permissionDenied,
  ROOT_ORGANISATION_ID,
  unauthenticated,
  type Database,
  type Logger,
  type Queryable,
} from '@assistants/kit';
import { StartExportRequest, type ExportJob } from '@assistants/proto/gen/statistics/v1/exports';
import type { Deps } from '../deps';
import { PERMISSIONS } from '../permissions';
import { countExport, countExportRows } from './metrics';
import { planOf } from './query';
import { writeExport } from './writer';

/*
 * X1 as a job: recorded (table `exports`) with its author's scope, run by the worker of any
 * replica (claimed with FOR UPDATE SKIP LOCKED and a lease kept alive by a heartbeat), its
 * file stored in chunks in this service's database (`export_chunks`), so that any replica
 * serves it and nothing is lost when a process dies. A job whose process died (heartbeat older
 * than the lease) is started over from its first row by the next replica that looks.
 */

type JobRow = {
  id: string;
  actor_id: string;
  scope: string[] | null;
  request: unknown;
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  rows_written: string;
  bytes_written: string;
  chunk_count: number;
  error: string;
  created_at: Date;
  finished_at: Date | null;
};

function toJob(r: JobRow): ExportJob {
  return {
    id: r.id,
    status: r.status,
    rowsWritten: Number(r.rows_written),
    bytesWritten: Number(r.bytes_written),
    chunkCount: r.status === 'done' ? r.chunk_count : 0,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? '',
    attempts: r.attempts,
  };
}

/** The organisations whose sub-trees the acting user may read the statistics of (null: all,
 * a grant on the root); PERMISSION_DENIED when none. */
export async function readScope(deps: Deps, actorId: string): Promise<string[] | null> {
  if (!actorId) throw unauthenticated('this call needs an acting user');
  const { grants } = await identityAuthority(deps.upstreams.identity).principal(actorId);
  const held = grants
    .filter((g) => g.permissions.includes(PERMISSIONS.read) || g.permissions.includes(ALL_PERMISSIONS))
    .map((g) => g.organisationId.toLowerCase());
  if (held.length === 0) throw permissionDenied(`this needs the permission ${PERMISSIONS.read}`);
  return held.includes(ROOT_ORGANISATION_ID) ? null : [...new Set(held)];
}

/** Checks the request, records the job with the author's scope and wakes the worker. */
export async function startExport(deps: Deps & { poke(): void }, request: StartExportRequest, actorId: string): Promise<ExportJob> {
  planOf(request);
  const scope = await readScope(deps, actorId);
  const { rows } = await deps.db.query<JobRow>(
    `INSERT INTO exports (id, actor_id, scope, request, status) VALUES ($1, $2, $3, $4, 'queued') RETURNING *`,
    [randomUUID(), actorId, scope, StartExportRequest.toJSON(request)],
  );
  deps.poke();
  return toJob(rows[0]);
}

/** A job of the acting user (another's is NOT_FOUND: it learns nothing of it). */
async function ownJob(db: Queryable, id: string, actorId: string): Promise<JobRow> {
  const { rows } = await db.query<JobRow>('SELECT * FROM exports WHERE id = $1 AND actor_id = $2', [checkId('id', id), actorId]);
  if (!rows[0]) throw notFound(`no export with id ${id}`, 'id');
  return rows[0];
}

export async function getExport(deps: Deps, id: string, actorId: string): Promise<ExportJob> {
  return toJob(await ownJob(deps.db, id, actorId));
}

/** One chunk of a finished job's file. */
export async function readExportChunk(deps: Deps, id: string, index: number, actorId: string): Promise<{ data: Buffer; last: boolean }> {
  const job = await ownJob(deps.db, id, actorId);
  if (job.status !== 'done') throw notFound(`export ${id} is ${job.status}: its file is not there yet`, 'id');
  const { rows } = await deps.db.query<{ data: Buffer }>('SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2', [
    job.id,
    index,
  ]);
  if (!rows[0]) throw notFound(`export ${id} has no chunk ${index}`, 'index');
  return { data: rows[0].data, last: index === job.chunk_count - 1 };
}

/** Another replica took the job over (this one's lease ran out): stop writing. */
class Superseded extends Error {}

/** The export worker of one replica: runs one job at a time. */
export class ExportWorker {
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: { db: Database; logger: Logger; pollMs: number; leaseSeconds: number }) {}

  start(): void {
    this.loop = this.run();
  }

  /** A job was recorded: look now rather than at the next poll. */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let job: JobRow | undefined;
      try {
        job = await this.claim();
        if (job) await this.execute(job);
      } catch (err) {
        this.options.logger.warn({ err, exportId: job?.id }, 'export worker: trying again');
      }
      if (job || this.stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** The oldest job waiting, or running in a process that died (no heartbeat within the
   * lease): started (over) from its first row. */
  private async claim(): Promise<JobRow | undefined> {
    const { rows } = await this.options.db.query<JobRow>(
      `UPDATE exports SET status = 'running', attempts = attempts + 1, heartbeat_at = now(), rows_written = 0, bytes_written = 0,
              chunk_count = 0
        WHERE id = (SELECT id FROM exports
                     WHERE status = 'queued' OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $1))
                     ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING *`,
      [this.options.leaseSeconds],
    );
    return rows[0];
  }

  private async execute(job: JobRow): Promise<void> {
    const { db, logger } = this.options;
    const mine = [job.id, job.attempts];
    const alive = setInterval(
      () => void db.query('UPDATE exports SET heartbeat_at = now() WHERE id = $1 AND attempts = $2', mine).catch(() => {}),
      (this.options.leaseSeconds * 1000) / 3,
    );
    try {
      await db.query('DELETE FROM export_chunks WHERE export_id = $1', [job.id]);
      let written = 0;
      const plan = planOf(StartExportRequest.fromJSON(job.request));
      const result = await db.transaction(async (tx) => {
        // One snapshot for the whole file; no statement timeout for a long export.
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await tx.query('SET LOCAL statement_timeout = 0');
        // Embedded PGlite has one connection: the chunks go through the export's own.
        const writer = db.embedded ? tx : db;
        return writeExport(tx, plan, job.scope, async (index, data, rows) => {
          const { rowCount } = await writer.query(
            `WITH progress AS (
               UPDATE exports SET rows_written = $3, bytes_written = bytes_written + $4, heartbeat_at = now()
                WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id)
             INSERT INTO export_chunks (export_id, seq, data) SELECT id, $5, $6 FROM progress`,
            [...mine, rows, data.length, index, data],
          );
          if (rowCount === 0) throw new Superseded();
          countExportRows(rows - written);
          written = rows;
        });
      });
      await db.query(
        `UPDATE exports SET status = 'done', rows_written = $3, bytes_written = $4, chunk_count = $5, finished_at = now()
          WHERE id = $1 AND attempts = $2`,
        [...mine, result.rows, result.bytes, result.chunks],
      );
      countExport('done');
      logger.info({ exportId: job.id, rows: result.rows, bytes: result.bytes }, 'export done');
    } catch (err) {
      if (err instanceof Superseded) return;
      logger.error({ err, exportId: job.id }, 'export failed');
      countExport('failed');
      await db.query(`UPDATE exports SET status = 'failed', error = $3, finished_at = now() WHERE id = $1 AND attempts = $2`, [
        ...mine,
        'the export failed; see the statistics service log',
      ]);
    } finally {
      clearInterval(alive);
    }
  }
}
