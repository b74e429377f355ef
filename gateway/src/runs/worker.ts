import { randomUUID } from 'node:crypto';
import { DomainError, withContext, type Database, type Logger } from '@assistants/kit';
import { Outcome, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { countRunItems } from '../metrics';
import type { Upstreams } from '../upstreams';
import { backoff, ClaimLoop, keepLease, retriable, type ClaimLoopOptions } from './claim-loop';
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

export interface RunWorkerOptions extends ClaimLoopOptions {
  db: Database;
  upstreams: Upstreams;
  actions: ActionRegistry;
  leaseSeconds: number;
}

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
export class RunWorker extends ClaimLoop<ClaimedBatch> {
  constructor(private readonly options: RunWorkerOptions) {
    super({ ...options, name: 'run-worker' });
  }

  protected claim(): Promise<ClaimedBatch | undefined> {
    const { db, leaseSeconds, actions } = this.options;
    return claimBatch(db, this.owner, leaseSeconds, actions.ids());
  }

  protected async execute(batch: ClaimedBatch): Promise<void> {
    const { db, upstreams, actions, logger, leaseSeconds } = this.options;
    const run = await findRun(db, batch.runId);
    const action = run && actions.get(run.action);
    if (!run || !action) return;
    await markRunStarted(db, run.id);
    const items = await batchItems(db, batch);
    const log = logger.child({ runId: run.id, batchNo: batch.batchNo, correlationId: run.correlation_id });
    const stopLease = keepLease(leaseSeconds, () => renewLease(db, batch, this.owner, leaseSeconds), log);
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
      if (retriable(err, batch.attempts)) {
        const delay = backoff(batch.attempts);
        log.warn({ err, attempts: batch.attempts, retryInMs: delay }, 'batch not applied: sent again later');
        await db.transaction((tx) => releaseBatch(tx, batch, this.owner, delay, (err as Error).message));
        return;
      }
      results = failedBatch(items, err, log);
    } finally {
      stopLease();
    }
    const stored = await db.transaction((tx) => storeBatch(tx, batch, this.owner, items.length, results));
    if (!stored) log.info('batch stored already by another replica');
    else countRunItems(run.action, results);
  }
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
