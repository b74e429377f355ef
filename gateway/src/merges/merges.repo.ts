import { prepared, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';

export type MergeStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'done' | 'failed';

export type MergeRow = {
  id: string;
  delete_user_id: string;
  keep_user_id: string;
  actor_id: string;
  actor_login: string;
  correlation_id: string;
  dry_run: boolean;
  status: MergeStatus;
  next_step: number;
  attempts: number;
  last_error: string;
  error_code: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

export type MergeStepRow = {
  step_no: number;
  name: string;
  status: StepStatus;
  /** ItemResult.toJSON of each result. */
  results: unknown[];
  message: string;
  finished_at: Date | null;
};

export interface NewMerge {
  id: string;
  deleteUserId: string;
  keepUserId: string;
  actorId: string;
  actorLogin: string;
  correlationId: string;
  dryRun: boolean;
  /** Every step in order; `status` and `results` set for a dry run's answered steps. */
  steps: { name: string; status: StepStatus; results: unknown[]; message: string }[];
}

/** A merge and its steps in one transaction; a dry run is stored answered (succeeded). */
export async function insertMerge(tx: Queryable, merge: NewMerge): Promise<void> {
  await tx.query(
    `INSERT INTO merges (id, delete_user_id, keep_user_id, actor_id, actor_login, correlation_id, dry_run, status, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 THEN now() END, CASE WHEN $7 THEN now() END)`,
    [
      merge.id,
      merge.deleteUserId,
      merge.keepUserId,
      merge.actorId,
      merge.actorLogin,
      merge.correlationId,
      merge.dryRun,
      merge.dryRun ? 'succeeded' : 'pending',
    ],
  );
  await tx.query(
    `INSERT INTO merge_steps (merge_id, step_no, name, status, results, message, finished_at)
     SELECT $1, s.n, s.name, s.status, s.results::jsonb, s.message, CASE WHEN s.status <> 'pending' THEN now() END
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS s(name, status, results, message, n)`,
    [
      merge.id,
      merge.steps.map((s) => s.name),
      merge.steps.map((s) => s.status),
      merge.steps.map((s) => JSON.stringify(s.results)),
      merge.steps.map((s) => s.message),
    ],
  );
}

export async function findMerge(q: Queryable, id: string): Promise<MergeRow | undefined> {
  const { rows } = await q.query<MergeRow>('SELECT * FROM merges WHERE id = $1', [id]);
  return rows[0];
}

export async function mergeSteps(q: Queryable, id: string): Promise<MergeStepRow[]> {
  const { rows } = await q.query<MergeStepRow>(
    'SELECT step_no, name, status, results, message, finished_at FROM merge_steps WHERE merge_id = $1 ORDER BY step_no',
    [id],
  );
  return rows;
}

export type ClaimedMerge = {
  id: string;
  attempts: number;
};

/** Takes the oldest merge to carry on: a pending one whose back-off is over, or a running one
 * whose holder's lease ran out (a killed or stuck replica); others' claims are skipped,
 * never waited for. */
export async function claimMerge(q: Queryable, owner: string, leaseSeconds: number): Promise<ClaimedMerge | undefined> {
  const { rows } = await q.query<ClaimedMerge>(
    prepared(`WITH next AS (
       SELECT id FROM merges
       WHERE (status = 'pending' AND not_before <= now()) OR (status = 'running' AND (lease_until IS NULL OR lease_until < now()))
       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     UPDATE merges m SET status = 'running', started_at = coalesce(m.started_at, now()), lease_owner = $1,
       lease_until = now() + make_interval(secs => $2), attempts = m.attempts + 1
     FROM next WHERE m.id = next.id
     RETURNING m.id, m.attempts`),
    [owner, leaseSeconds],
  );
  return rows[0];
}

export async function renewMergeLease(q: Queryable, id: string, owner: string, leaseSeconds: number): Promise<void> {
  await q.query(
    `UPDATE merges SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND status = 'running' AND lease_owner = $2`,
    [id, owner, leaseSeconds],
  );
}

/** Records a step's answer and moves the merge past it (ending it, succeeded, after the
 * last), in one transaction, only while `owner` still holds the merge and has not gone past
 * that step. Returns whether it did
 * (false: another replica took it over). */
export async function storeStep(
  tx: Queryable,
  merge: { id: string; owner: string; stepNo: number; lastStep: boolean },
  step: { status: 'done'; results: ItemResult[] | unknown[]; message: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE merges SET next_step = $3 + 1, attempts = 0, last_error = '',
       status = CASE WHEN $4 THEN 'succeeded' ELSE status END, finished_at = CASE WHEN $4 THEN now() END,
       lease_owner = CASE WHEN $4 THEN NULL ELSE lease_owner END, lease_until = CASE WHEN $4 THEN NULL ELSE lease_until END
     WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND next_step <= $3`,
    [merge.id, merge.owner, merge.stepNo, merge.lastStep],
  );
  if (!rowCount) return false;
  await tx.query(
    `UPDATE merge_steps SET status = $3, results = $4::jsonb, message = $5, finished_at = now() WHERE merge_id = $1 AND step_no = $2`,
    [merge.id, merge.stepNo, step.status, JSON.stringify(step.results), step.message],
  );
  return true;
}

/** The merge back to the queue after `delayMs` (its service was away). */
export async function releaseMerge(q: Queryable, id: string, owner: string, delayMs: number, error: string): Promise<void> {
  await q.query(
    `UPDATE merges SET status = 'pending', lease_owner = NULL, lease_until = NULL,
       not_before = now() + make_interval(secs => $3), last_error = $4
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [id, owner, delayMs / 1000, error.slice(0, 1000)],
  );
}

/** Ends the merge failed at a step: the steps before it stay applied, the later ones (the
 * deletion of the user) are never sent. */
export async function failMerge(
  tx: Queryable,
  merge: { id: string; owner: string; stepNo: number },
  failure: { code: string; message: string; results: unknown[] },
): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE merges SET status = 'failed', error_code = $4, last_error = $5, finished_at = now(), lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND next_step <= $3`,
    [merge.id, merge.owner, merge.stepNo, failure.code, failure.message.slice(0, 1000)],
  );
  if (!rowCount) return;
  await tx.query(
    `UPDATE merge_steps SET status = 'failed', results = $3::jsonb, message = $4, finished_at = now() WHERE merge_id = $1 AND step_no = $2`,
    [merge.id, merge.stepNo, JSON.stringify(failure.results), failure.message],
  );
}
