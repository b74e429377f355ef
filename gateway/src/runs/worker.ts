import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DomainError, withContext, withCorrelationId, type Database, type ErrorCode, type Logger } from '@assistants/kit';
import { Outcome, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { Upstreams } from '../upstreams';
import type { ActionRegistry } from './registry';
import {
  batchItems,
  claimBatch,
  findRun,
  markRunStarted,
  releaseBatch,
  renewLease,
  storeBatch,
  type ClaimedBatch,
  type StoredResult,
} from './runs.repo';

export interface RunWorkerOptions {
  db: Database;
  upstreams: Upstreams;
  actions: ActionRegistry;
  logger: Logger;
  /** Batches worked on at once by this process. */
  concurrency: number;
  leaseSeconds: number;
  pollMs: number;
}

/** A service that is away or overloaded: the batch is sent again later, however long it
 * takes, and the run goes on when the service is back. */
const TRANSIENT: ErrorCode[] = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'];
/** A batch that fails without a domain error (a bug, an internal error of its service) is
 * tried this many times before its items are reported failed. */
const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 30_000;

const OUTCOMES: Partial<Record<Outcome, StoredResult['outcome']>> = {
  [Outcome.OUTCOME_SUCCEEDED]: 'succeeded',
  [Outcome.OUTCOME_UNCHANGED]: 'unchanged',
  [Outcome.OUTCOME_FAILED]: 'failed',
};

/**
 * Sends the batches of every run to their services, in every gateway process: it claims a
 * batch (any replica's run), calls the action with the batch's idempotency key on behalf of
 * the run's creator, and stores the answer. A process killed between the call and the store
 * loses nothing: its lease runs out, a replica sends the batch again, and the service answers
 * what it recorded the first time.
 */
export class RunWorker {
  /** This process, as a lease holder (unique per start). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: RunWorkerOptions) {}

  start(): void {
    if (this.options.concurrency === 0) return;
    this.stopped = false;
    this.wake();
  }

  /** Looks for work now (a run was just created here, or a batch just ended). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    // Detached from whatever request woke it: the worker acts for the runs' creators only.
    this.timer = setTimeout(
      () =>
        withCorrelationId(`run-worker:${this.owner}`, () => {
          this.ticking = this.tick().finally(() => {
            this.ticking = undefined;
            if (!this.stopped) this.schedule(this.again ? 0 : this.options.pollMs);
          });
        }),
      ms,
    );
  }

  /** Stops claiming, and waits for the batches in flight to be stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims batches while this process has room for them. */
  private async tick(): Promise<void> {
    const { db, logger, concurrency, leaseSeconds, actions } = this.options;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.inFlight.size < concurrency) {
          const batch = await claimBatch(db, this.owner, leaseSeconds, actions.ids());
          if (!batch) break;
          const work: Promise<void> = this.execute(batch)
            .catch((err) => logger.error({ err, runId: batch.runId, batchNo: batch.batchNo }, 'batch not stored: it will be sent again'))
            .finally(() => {
              this.inFlight.delete(work);
              this.wake();
            });
          this.inFlight.add(work);
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      logger.error({ err }, 'cannot claim run batches: trying again');
    }
  }

  private async execute(batch: ClaimedBatch): Promise<void> {
    const { db, upstreams, actions, logger, leaseSeconds } = this.options;
    const run = await findRun(db, batch.runId);
    const action = run && actions.get(run.action);
    if (!run || !action) return;
    await markRunStarted(db, run.id);
    const items = await batchItems(db, batch);
    const log = logger.child({ runId: run.id, batchNo: batch.batchNo, correlationId: run.correlation_id });
    const heartbeat = setInterval(
      () => void renewLease(db, batch, this.owner, leaseSeconds).catch((err) => log.warn({ err }, 'cannot renew the lease of a batch')),
      (leaseSeconds * 1000) / 3,
    );
    let results: StoredResult[];
    try {
      const answer = await withContext({ actorId: run.actor_id, correlationId: run.correlation_id, deadline: undefined }, () =>
        action.definition.apply(
          upstreams,
          items.map((i) => i.item_id),
          run.params,
          { idempotencyKey: `run:${run.id}:${batch.batchNo}`, dryRun: run.dry_run },
        ),
      );
      results = toStoredResults(items, answer.results);
    } catch (err) {
      const code = err instanceof DomainError ? err.code : undefined;
      if ((code && TRANSIENT.includes(code)) || (!code && batch.attempts < MAX_ATTEMPTS)) {
        const delay = backoff(batch.attempts);
        log.warn({ err, attempts: batch.attempts, retryInMs: delay }, 'batch not applied: sent again later');
        await db.transaction((tx) => releaseBatch(tx, batch, this.owner, delay, (err as Error).message));
        return;
      }
      results = failedBatch(items, err, log);
    } finally {
      clearInterval(heartbeat);
    }
    const stored = await db.transaction((tx) => storeBatch(tx, batch, this.owner, items.length, results));
    if (!stored) log.info('batch stored already by another replica');
  }
}

/** Exponential, from 1 s to 30 s, with jitter so that replicas do not retry in step. */
function backoff(attempts: number): number {
  const base = Math.min(1000 * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** The service's answer, one row per result, numbered within each item. An item the answer
 * forgot is reported failed rather than silently left out. */
export function toStoredResults(items: { seq: number; item_id: string }[], answer: ItemResult[]): StoredResult[] {
  const seqOf = new Map(items.map((i) => [i.item_id, i.seq]));
  const counts = new Map<number, number>();
  const results: StoredResult[] = [];
  for (const result of answer) {
    const seq = seqOf.get(result.itemId.toLowerCase());
    if (seq === undefined) continue;
    const n = counts.get(seq) ?? 0;
    counts.set(seq, n + 1);
    const outcome = OUTCOMES[result.outcome];
    results.push({
      seq,
      n,
      targetId: result.targetId,
      outcome: outcome ?? 'failed',
      code: outcome ? result.code : result.code || 'NO_OUTCOME',
      message: result.message,
    });
  }
  for (const item of items) {
    if (!counts.has(item.seq)) {
      results.push({
        seq: item.seq,
        n: 0,
        targetId: '',
        outcome: 'failed',
        code: 'NO_RESULT',
        message: 'the service answered nothing for this item',
      });
    }
  }
  return results.sort((a, b) => a.seq - b.seq || a.n - b.n);
}

/** A batch the service refused as a whole (a domain error: the acting user lost the right,
 * a course was deleted meanwhile...), or one that kept failing: each of its items failed,
 * with the reason; the run goes on. */
function failedBatch(items: { seq: number }[], err: unknown, log: Logger): StoredResult[] {
  let code: string;
  let message: string;
  if (err instanceof DomainError) {
    code = err.code;
    message = err.field ? `${err.message} (${err.field})` : err.message;
  } else {
    // Not for the caller's eyes: the log keeps it under an id the result gives.
    const errorId = randomUUID();
    log.error({ err, errorId }, 'batch failed on every attempt');
    code = 'INTERNAL';
    message = `internal error ${errorId}`;
  }
  log.info({ code }, 'batch refused: its items are reported failed');
  return items.map((i) => ({ seq: i.seq, n: 0, targetId: '', outcome: 'failed', code, message }));
}
