import { randomUUID } from 'node:crypto';
import { DomainError, withContext, type Database, type Logger } from '@assistants/kit';
import { ItemResult, Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { backoff, ClaimLoop, keepLease, retriable, type ClaimLoopOptions } from '../runs/claim-loop';
import type { Upstreams } from '../upstreams';
import { claimMerge, failMerge, findMerge, mergeSteps, releaseMerge, renewMergeLease, storeStep, type ClaimedMerge } from './merges.repo';
import { MERGE_STEPS } from './steps';

export interface MergeWorkerOptions extends ClaimLoopOptions {
  db: Database;
  upstreams: Upstreams;
  leaseSeconds: number;
}

/**
 * Carries user merges on, in every gateway process (the run engine's claim loop and
 * leases): it claims a merge, sends its remaining steps in order on behalf of its creator,
 * each with the key "merge:<id>:<step>", and records each answer before the next step. A
 * process killed anywhere loses nothing: the lease runs out, a replica claims the merge and
 * sends the unrecorded step again, and its service answers what it recorded. A service that
 * is away makes the merge wait (back-off); a refusal (a domain error, or a failed item)
 * ends it failed, the later steps (the deletion of the user) never sent.
 */
export class MergeWorker extends ClaimLoop<ClaimedMerge> {
  constructor(private readonly options: MergeWorkerOptions) {
    super({ ...options, name: 'merge-worker' });
  }

  protected claim(): Promise<ClaimedMerge | undefined> {
    return claimMerge(this.options.db, this.owner, this.options.leaseSeconds);
  }

  protected async execute(claimed: ClaimedMerge): Promise<void> {
    const { db, upstreams, logger, leaseSeconds } = this.options;
    const merge = await findMerge(db, claimed.id);
    if (!merge) return;
    const log = logger.child({ mergeId: merge.id, correlationId: merge.correlation_id });
    const stopLease = keepLease(leaseSeconds, () => renewMergeLease(db, merge.id, this.owner, leaseSeconds), log);
    try {
      const steps = await mergeSteps(db, merge.id);
      const pair = { fromUserId: merge.delete_user_id, toUserId: merge.keep_user_id };
      for (const row of steps.filter((s) => s.step_no >= merge.next_step)) {
        const at = { id: merge.id, owner: this.owner, stepNo: row.step_no, lastStep: row.step_no === steps.length };
        const step = MERGE_STEPS.find((s) => s.name === row.name);
        // A merge stored by a version of the suite with other steps: not carried on blindly.
        if (!step) throw new Error(`merge step ${row.name} is not a step of this version`);
        let results: ItemResult[];
        try {
          const answer = await withContext({ actorId: merge.actor_id, correlationId: merge.correlation_id, deadline: undefined }, () =>
            step.apply(upstreams, pair, { idempotencyKey: `merge:${merge.id}:${step.name}`, dryRun: false }),
          );
          results = answer.results;
        } catch (err) {
          if (retriable(err, claimed.attempts)) {
            const delay = backoff(claimed.attempts);
            log.warn({ err, step: step.name, attempts: claimed.attempts, retryInMs: delay }, 'merge step not applied: sent again later');
            await releaseMerge(db, merge.id, this.owner, delay, `${step.service}: ${(err as Error).message}`);
            return;
          }
          const failure = refusal(err, log);
          log.info({ step: step.name, code: failure.code }, 'merge step refused: the merge stops');
          await db.transaction((tx) => failMerge(tx, at, { ...failure, results: [] }));
          return;
        }
        const json = results.map((r) => ItemResult.toJSON(r));
        const failed = results.find((r) => r.outcome === Outcome.OUTCOME_FAILED);
        if (failed) {
          await db.transaction((tx) => failMerge(tx, at, { code: failed.code, message: failed.message, results: json }));
          return;
        }
        const moved = results.filter((r) => r.outcome === Outcome.OUTCOME_SUCCEEDED).length;
        const message = `${moved} moved, ${results.length - moved} unchanged`;
        if (!(await db.transaction((tx) => storeStep(tx, at, { status: 'done', results: json, message })))) {
          log.info('merge taken over by another replica');
          return;
        }
      }
    } finally {
      stopLease();
    }
  }
}

/** A step refused as a whole: its code and message; an unexpected error is logged under an
 * id the merge's result gives. */
function refusal(err: unknown, log: Logger): { code: string; message: string } {
  if (err instanceof DomainError) return { code: err.code, message: err.field ? `${err.message} (${err.field})` : err.message };
  const errorId = randomUUID();
  log.error({ err, errorId }, 'merge step failed on every attempt');
  return { code: 'INTERNAL', message: `internal error ${errorId}` };
}
