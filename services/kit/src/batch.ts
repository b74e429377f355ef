import { createHash } from 'node:crypto';
import { BatchResult, Outcome, type BatchHeader, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { failedPrecondition, invalidArgument } from './errors';
import type { Queryable } from './db';
import type { Emit, Outbox } from './outbox';

/** Thrown to roll a dry run back once its results are known. */
class DryRunDone extends Error {
  constructor(readonly results: ItemResult[]) {
    super('dry run');
  }
}

/**
 * Applies a bulk command once. `apply` makes the change for every item in one transaction
 * and returns one result per item; the results are recorded under the header's idempotency
 * key in the same commit, so a repeated key (a run or import resuming after a kill, two
 * replicas racing) gets the recorded results back and nothing is applied twice. Two calls
 * with the same key at once: the second waits on the key's row until the first commits.
 *
 * A dry run goes through the same `apply` and is rolled back: events emitted are dropped with
 * it, and nothing is recorded.
 *
 * `request` is what the key stands for (the request without its header): the same key with
 * another request is refused rather than answered with the wrong results.
 */
export async function applyBatch(
  outbox: Outbox,
  header: BatchHeader | undefined,
  request: unknown,
  apply: (tx: Queryable, emit: Emit, dryRun: boolean) => Promise<ItemResult[]>,
): Promise<BatchResult> {
  if (header?.dryRun) {
    try {
      await outbox.transaction(async (tx, emit) => {
        throw new DryRunDone(await apply(tx, emit, true));
      });
    } catch (error) {
      if (error instanceof DryRunDone) return { results: error.results, replayed: false };
      throw error;
    }
    throw new Error('unreachable: a dry run always rolls back');
  }
  const key = header?.idempotencyKey ?? '';
  if (!key) throw invalidArgument('batch.idempotency_key', 'batch.idempotency_key is required (or batch.dry_run)');
  const digest = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  return outbox.transaction(async (tx, emit) => {
    const claimed = await tx.query(
      `INSERT INTO kit_batches (idempotency_key, request_digest) VALUES ($1, $2)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
      [key, digest],
    );
    if (claimed.rowCount === 0) {
      const { rows } = await tx.query<{ request_digest: string; results: unknown }>(
        'SELECT request_digest, results FROM kit_batches WHERE idempotency_key = $1',
        [key],
      );
      if (rows[0]!.request_digest !== digest) {
        throw failedPrecondition(`batch.idempotency_key ${key} was already used for another request`, 'batch.idempotency_key');
      }
      return { ...BatchResult.fromJSON({ results: rows[0]!.results }), replayed: true };
    }
    const results = await apply(tx, emit, false);
    await tx.query('UPDATE kit_batches SET results = $2 WHERE idempotency_key = $1', [
      key,
      JSON.stringify((BatchResult.toJSON({ results, replayed: false }) as { results?: unknown[] }).results ?? []),
    ]);
    return { results, replayed: false };
  });
}

/** Prunes recorded batches older than `hours` (a run or import resumes within hours, not
 * weeks). Returns how many went. */
export async function pruneBatches(db: Queryable, hours: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM kit_batches WHERE applied_at < now() - make_interval(hours => $1)`, [hours]);
  return rowCount ?? 0;
}

/** Result helpers, so that commands read as what they decide. */
export const itemResult = {
  succeeded: (itemId: string, targetId = '', message = ''): ItemResult => ({
    itemId,
    targetId,
    outcome: Outcome.OUTCOME_SUCCEEDED,
    code: '',
    message,
  }),
  unchanged: (itemId: string, targetId: string, code: string, message: string): ItemResult => ({
    itemId,
    targetId,
    outcome: Outcome.OUTCOME_UNCHANGED,
    code,
    message,
  }),
  failed: (itemId: string, targetId: string, code: string, message: string): ItemResult => ({
    itemId,
    targetId,
    outcome: Outcome.OUTCOME_FAILED,
    code,
    message,
  }),
};
