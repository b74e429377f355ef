import { randomUUID } from 'node:crypto';
import { DomainError, type Database } from '@assistants/kit';
import { ItemResult, Outcome } from '@assistants/proto/gen/batch/v1/batch';
import type { Upstreams } from '../upstreams';
import { findMerge, insertMerge, mergeSteps, type MergeRow, type MergeStepRow, type StepStatus } from './merges.repo';
import { MERGE_STEPS } from './steps';
import type { MergeWorker } from './worker';

export interface MergeRequest {
  deleteUserId: string;
  keepUserId: string;
  dryRun?: boolean;
}

export interface MergeCaller {
  userId: string;
  login: string;
  correlationId: string;
}

/** The services name the users fromUserId / toUserId; the API deleteUserId / keepUserId. */
const FIELDS: Record<string, string> = { fromUserId: 'deleteUserId', toUserId: 'keepUserId' };

/** User merges as the API sees them: checked and created here, carried on by the worker of
 * every replica (worker.ts). */
export class MergeEngine {
  constructor(private readonly options: { db: Database; upstreams: Upstreams; worker: MergeWorker }) {}

  get db(): Database {
    return this.options.db;
  }

  /**
   * Every step is first sent as a dry run, in the caller's request context: each service
   * checks that the caller may change both users (NOT_FOUND / PERMISSION_DENIED naming
   * deleteUserId or keepUserId) and answers what would move. A dry run merge is stored
   * with those answers, ended; a real one is stored pending and the workers carry it out.
   */
  async create(request: MergeRequest, caller: MergeCaller): Promise<MergeRow> {
    const { db, upstreams, worker } = this.options;
    const pair = { fromUserId: request.deleteUserId, toUserId: request.keepUserId };
    const dryRun = request.dryRun ?? false;
    // The checks are independent of each other: sent at once.
    const steps = await Promise.all(
      MERGE_STEPS.map(async (step): Promise<{ name: string; status: StepStatus; results: unknown[]; message: string }> => {
        try {
          const { results } = await step.apply(upstreams, pair, { idempotencyKey: '', dryRun: true });
          if (!dryRun) return { name: step.name, status: 'pending', results: [], message: '' };
          const moved = results.filter((r) => r.outcome === Outcome.OUTCOME_SUCCEEDED).length;
          return {
            name: step.name,
            status: 'done',
            results: results.map((r) => ItemResult.toJSON(r)),
            message: `${moved} would move, ${results.length - moved} unchanged`,
          };
        } catch (err) {
          if (err instanceof DomainError && err.field && FIELDS[err.field]) throw new DomainError(err.code, err.message, FIELDS[err.field]);
          throw err;
        }
      }),
    );
    const id = randomUUID();
    await db.transaction((tx) =>
      insertMerge(tx, {
        id,
        deleteUserId: request.deleteUserId,
        keepUserId: request.keepUserId,
        actorId: caller.userId,
        actorLogin: caller.login,
        correlationId: caller.correlationId,
        dryRun,
        steps,
      }),
    );
    if (!dryRun) worker.wake();
    return (await findMerge(db, id))!;
  }

  find(id: string): Promise<MergeRow | undefined> {
    return findMerge(this.options.db, id);
  }

  async steps(id: string): Promise<MergeStepRow[]> {
    return mergeSteps(this.options.db, id);
  }
}
