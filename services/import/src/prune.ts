import { type BackgroundWorker, type Database, type Logger, type Queryable } from '@assistants/kit';

/** How long what the imports leave behind is kept. */
export interface Retention {
  /** finished (completed or failed) jobs, with their counts, log and rejects, after they end */
  jobDays: number;
  /** uploads no job uses (never started, or whose jobs went), after they were made */
  uploadHours: number;
}

/** Rows deleted per statement: a large backlog goes in short transactions. */
const ROUND = 100;

/**
 * Deletes the finished jobs older than the retention (their chunks go with them), then the
 * uploads no job uses any more (their parts go with them). Rows another replica is deleting
 * at the same moment, or that a job being started holds (its foreign key locks the upload),
 * are skipped (SKIP LOCKED): any number of replicas may prune at once. Returns what went.
 */
export async function pruneImports(db: Queryable, retention: Retention): Promise<{ jobs: number; uploads: number }> {
  const deleted = { jobs: 0, uploads: 0 };
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM jobs WHERE id IN (
         SELECT id FROM jobs WHERE status IN ('completed', 'failed') AND finished_at < now() - make_interval(days => $1)
          ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [retention.jobDays, ROUND],
    );
    deleted.jobs += rowCount ?? 0;
    if ((rowCount ?? 0) < ROUND) break;
  }
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM uploads WHERE id IN (
         SELECT u.id FROM uploads u WHERE u.created_at < now() - make_interval(hours => $1)
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_id = u.id)
          ORDER BY u.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [retention.uploadHours, ROUND],
    );
    deleted.uploads += rowCount ?? 0;
    if ((rowCount ?? 0) < ROUND) break;
  }
  return deleted;
}

/** Prunes at start and then every `everyMs`, on every replica. */
export class ImportPruner implements BackgroundWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: { db: Database; retention: Retention; everyMs: number; logger: Logger }) {}

  start(): void {
    const prune = () => {
      this.running = pruneImports(this.deps.db, this.deps.retention)
        .then((deleted) => {
          if (deleted.jobs + deleted.uploads > 0) this.deps.logger.info(deleted, 'import retention: old jobs and uploads deleted');
        })
        .catch((err) => this.deps.logger.warn({ err }, 'import retention: pruning failed; trying again later'));
    };
    prune();
    this.timer = setInterval(prune, this.deps.everyMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
