import { prepared, type Queryable } from '@assistants/kit';
import type { AssistantKind } from '../actions/action';

export type RunStatus = 'pending' | 'running' | 'cancelling' | 'cancelled' | 'completed';
export type ResultOutcome = 'succeeded' | 'unchanged' | 'failed' | 'not_done';

export type RunRow = {
  id: string;
  assistant: AssistantKind;
  action: string;
  params: Record<string, unknown>;
  selection: unknown;
  actor_id: string;
  actor_login: string;
  correlation_id: string;
  dry_run: boolean;
  status: RunStatus;
  total: number;
  batch_size: number;
  done: number;
  succeeded: number;
  unchanged: number;
  failed: number;
  not_done: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

export interface NewRun {
  id: string;
  assistant: AssistantKind;
  action: string;
  params: unknown;
  selection: unknown;
  actorId: string;
  actorLogin: string;
  correlationId: string;
  dryRun: boolean;
  batchSize: number;
}

const RUN_COLUMNS = `id, assistant, action, params, selection, actor_id, actor_login, correlation_id, dry_run, status, total,
  batch_size, done, succeeded, unchanged, failed, not_done, created_at, started_at, finished_at`;

/** A run's row, first of the transaction that freezes it (its items follow). */
export async function insertRun(tx: Queryable, run: NewRun): Promise<void> {
  await tx.query(
    `INSERT INTO runs (id, assistant, action, params, selection, actor_id, actor_login, correlation_id, dry_run, total, batch_size)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)`,
    [
      run.id,
      run.assistant,
      run.action,
      JSON.stringify(run.params),
      JSON.stringify(run.selection),
      run.actorId,
      run.actorLogin,
      run.correlationId,
      run.dryRun,
      run.batchSize,
    ],
  );
}

/** Items `from + 1`… of a run, in the given order, in one statement however many. */
export async function insertItems(tx: Queryable, runId: string, from: number, ids: string[], labels: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `INSERT INTO run_items (run_id, seq, item_id, label)
     SELECT $1, $2 + s.n, s.item_id, s.label FROM unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS s(item_id, label, n)`,
    [runId, from, ids, labels],
  );
}

/** The run's total and its batches, once all its items are in. */
export async function sealRun(tx: Queryable, runId: string, total: number, batchSize: number): Promise<RunRow> {
  await tx.query(
    `INSERT INTO run_batches (run_id, batch_no, first_seq, last_seq)
     SELECT $1, b, (b - 1) * $2 + 1, least(b * $2, $3) FROM generate_series(1, ceil($3::numeric / $2)::integer) AS b`,
    [runId, batchSize, total],
  );
  const { rows } = await tx.query<RunRow>(`UPDATE runs SET total = $2 WHERE id = $1 RETURNING ${RUN_COLUMNS}`, [runId, total]);
  return rows[0];
}

export async function findRun(q: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await q.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [id]);
  return rows[0];
}

/** Why a run is waiting, when one of its batches was sent back (its service was away): that
 * batch's error, "" otherwise. */
export async function waitingReason(q: Queryable, runId: string): Promise<string> {
  const { rows } = await q.query<{ last_error: string }>(
    `SELECT last_error FROM run_batches WHERE run_id = $1 AND status = 'pending' AND last_error <> ''
     ORDER BY not_before DESC LIMIT 1`,
    [runId],
  );
  return rows[0]?.last_error ?? '';
}

export interface RunListQuery {
  /** Only runs of this user (the caller's own, unless it may read all). */
  actorId?: string;
  status?: RunStatus;
  assistant?: AssistantKind;
  /** Keyset: runs created before this one (its created_at and id). */
  before?: { createdAt: string; id: string };
  limit: number;
}

/** Newest first; one row more than the page, to tell whether another page follows. Each row
 * has its creation time to the microsecond (`created_key`), for the next page's key. */
export async function listRuns(q: Queryable, query: RunListQuery): Promise<{ rows: (RunRow & { created_key: string })[]; total: number }> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (value: unknown) => `$${values.push(value)}`;
  if (query.actorId) conditions.push(`actor_id = ${add(query.actorId)}`);
  if (query.status) conditions.push(`status = ${add(query.status)}`);
  if (query.assistant) conditions.push(`assistant = ${add(query.assistant)}`);
  const filter = conditions.length ? conditions.join(' AND ') : 'TRUE';
  const countValues = [...values];
  const page = query.before ? `(created_at, id) < (${add(query.before.createdAt)}::timestamptz, ${add(query.before.id)}::uuid)` : 'TRUE';
  const [items, count] = await Promise.all([
    q.query<RunRow & { created_key: string }>(
      `SELECT ${RUN_COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key
       FROM runs WHERE ${filter} AND ${page} ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`,
      values,
    ),
    q.query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE ${filter}`, countValues),
  ]);
  return { rows: items.rows, total: Number(count.rows[0].n) };
}

// ---- Batches ----------------------------------------------------------------------------

export interface ClaimedBatch {
  runId: string;
  batchNo: number;
  firstSeq: number;
  lastSeq: number;
  attempts: number;
}

/** Takes the next batch to send, oldest run first: a pending one whose back-off is over, or
 * one whose holder's lease ran out (a killed or stuck replica). Rows other replicas are
 * claiming at the same moment are skipped, never waited for. Only runs of actions this
 * replica knows (a replica of an older version leaves newer actions to the others). A
 * cancelling run still has its batches that were sent once (see cancelRun) sent again,
 * to learn what they did. */
export async function claimBatch(q: Queryable, owner: string, leaseSeconds: number, actions: string[]): Promise<ClaimedBatch | undefined> {
  const { rows } = await q.query<{ run_id: string; batch_no: number; first_seq: number; last_seq: number; attempts: number }>(
    prepared(`WITH next AS (
       SELECT b.run_id, b.batch_no FROM run_batches b JOIN runs r ON r.id = b.run_id
       WHERE b.status IN ('pending', 'running') AND r.status IN ('pending', 'running', 'cancelling') AND r.action = ANY($3::text[])
         AND (r.paused_until IS NULL OR r.paused_until <= now())
         AND ((b.status = 'pending' AND b.not_before <= now()) OR (b.status = 'running' AND b.lease_until < now()))
       ORDER BY r.created_at, b.batch_no
       LIMIT 1
       FOR UPDATE OF b SKIP LOCKED)
     UPDATE run_batches b
     SET status = 'running', lease_owner = $1, lease_until = now() + make_interval(secs => $2), attempts = b.attempts + 1
     FROM next WHERE b.run_id = next.run_id AND b.batch_no = next.batch_no
     RETURNING b.run_id, b.batch_no, b.first_seq, b.last_seq, b.attempts`),
    [owner, leaseSeconds, actions],
  );
  const row = rows[0];
  return row && { runId: row.run_id, batchNo: row.batch_no, firstSeq: row.first_seq, lastSeq: row.last_seq, attempts: row.attempts };
}

/** A run's first claimed batch starts it (its own statement: the claim locks no run row). */
export async function markRunStarted(q: Queryable, runId: string): Promise<void> {
  await q.query(`UPDATE runs SET status = 'running', started_at = now() WHERE id = $1 AND status = 'pending'`, [runId]);
}

/** Keeps a batch that is still being worked on from being taken over. */
export async function renewLease(q: Queryable, batch: ClaimedBatch, owner: string, leaseSeconds: number): Promise<void> {
  await q.query(
    `UPDATE run_batches SET lease_until = now() + make_interval(secs => $4)
     WHERE run_id = $1 AND batch_no = $2 AND status = 'running' AND lease_owner = $3`,
    [batch.runId, batch.batchNo, owner, leaseSeconds],
  );
}

export async function batchItems(q: Queryable, batch: ClaimedBatch): Promise<{ seq: number; item_id: string }[]> {
  const { rows } = await q.query<{ seq: number; item_id: string }>(
    'SELECT seq, item_id FROM run_items WHERE run_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq',
    [batch.runId, batch.firstSeq, batch.lastSeq],
  );
  return rows;
}

/** The batch back to the queue, to be sent again after `delayMs` (its service was away);
 * the run's other batches wait as long (run row locked first, as everywhere). */
export async function releaseBatch(tx: Queryable, batch: ClaimedBatch, owner: string, delayMs: number, error: string): Promise<void> {
  await tx.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [batch.runId]);
  const released = await tx.query(
    `UPDATE run_batches SET status = 'pending', lease_owner = NULL, lease_until = NULL,
       not_before = now() + make_interval(secs => $4), last_error = $5
     WHERE run_id = $1 AND batch_no = $2 AND status = 'running' AND lease_owner = $3`,
    [batch.runId, batch.batchNo, owner, delayMs / 1000, error.slice(0, 1000)],
  );
  if (released.rowCount) {
    await tx.query(`UPDATE runs SET paused_until = greatest(paused_until, now() + make_interval(secs => $2)) WHERE id = $1`, [
      batch.runId,
      delayMs / 1000,
    ]);
  }
}

export interface StoredResult {
  seq: number;
  n: number;
  targetId: string;
  outcome: Exclude<ResultOutcome, 'not_done'>;
  code: string;
  message: string;
}

/** Stores what the service answered for a batch, marks the batch done and counts it into its
 * run, in one transaction; the run ends when it was the last batch. A batch stored already
 * (by a replica that had taken it over) is left as it is: its results are the same, the
 * service having replayed them under the batch's key. Returns whether this call stored it. */
export async function storeBatch(
  tx: Queryable,
  batch: ClaimedBatch,
  owner: string,
  items: number,
  results: StoredResult[],
): Promise<boolean> {
  // Run row first, then the batch row, as cancelRun does: the two never wait on each other
  // in opposite orders.
  await tx.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [batch.runId]);
  const { rows } = await tx.query<{ status: string }>('SELECT status FROM run_batches WHERE run_id = $1 AND batch_no = $2 FOR UPDATE', [
    batch.runId,
    batch.batchNo,
  ]);
  if (rows[0]?.status !== 'running' && rows[0]?.status !== 'pending') return false;
  await tx.query(
    `INSERT INTO run_results (run_id, seq, n, target_id, outcome, code, message)
     SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      batch.runId,
      results.map((r) => r.seq),
      results.map((r) => r.n),
      results.map((r) => r.targetId),
      results.map((r) => r.outcome),
      results.map((r) => r.code),
      results.map((r) => r.message),
    ],
  );
  await tx.query(
    `UPDATE run_batches SET status = 'done', finished_at = now(), lease_owner = $3, lease_until = NULL
     WHERE run_id = $1 AND batch_no = $2`,
    [batch.runId, batch.batchNo, owner],
  );
  const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
  await tx.query(
    `UPDATE runs SET done = done + $2, succeeded = succeeded + $3, unchanged = unchanged + $4, failed = failed + $5,
       status = CASE WHEN status = 'pending' THEN 'running' ELSE status END, started_at = coalesce(started_at, now())
     WHERE id = $1`,
    [batch.runId, items, count('succeeded'), count('unchanged'), count('failed')],
  );
  await finishIfLast(tx, batch.runId);
  return true;
}

/** Ends a run none of whose batches is left to send or being sent. */
async function finishIfLast(tx: Queryable, runId: string): Promise<void> {
  await tx.query(
    `UPDATE runs SET status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE 'completed' END, finished_at = now()
     WHERE id = $1 AND status IN ('pending', 'running', 'cancelling')
       AND NOT EXISTS (SELECT 1 FROM run_batches WHERE run_id = $1 AND status IN ('pending', 'running'))`,
    [runId],
  );
}

/** Cancels a run: batches never sent are never sent and their items are reported as not
 * done; batches sent at least once (being sent, or waiting to be sent again after their
 * service failed to answer) may have been applied: they go on until their results are
 * known, and the last one to end ends the run (cancelled). Returns the run's status
 * afterwards, undefined when there is no such run. */
export async function cancelRun(tx: Queryable, runId: string): Promise<RunStatus | undefined> {
  const { rows } = await tx.query<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  if (!rows[0]) return undefined;
  if (rows[0].status !== 'pending' && rows[0].status !== 'running') return rows[0].status;
  const skipped = await tx.query<{ first_seq: number; last_seq: number }>(
    `UPDATE run_batches SET status = 'skipped', lease_owner = NULL, lease_until = NULL, finished_at = now()
     WHERE run_id = $1 AND status = 'pending' AND attempts = 0 RETURNING first_seq, last_seq`,
    [runId],
  );
  const notDone = skipped.rows.reduce((n, b) => n + b.last_seq - b.first_seq + 1, 0);
  if (notDone > 0) {
    await tx.query(
      `INSERT INTO run_results (run_id, seq, n, outcome, code, message)
       SELECT i.run_id, i.seq, 0, 'not_done', 'CANCELLED', 'not done: the run was cancelled'
       FROM run_batches b JOIN run_items i ON i.run_id = b.run_id AND i.seq BETWEEN b.first_seq AND b.last_seq
       WHERE b.run_id = $1 AND b.status = 'skipped'`,
      [runId],
    );
  }
  await tx.query(`UPDATE runs SET status = 'cancelling', not_done = not_done + $2 WHERE id = $1`, [runId, notDone]);
  await finishIfLast(tx, runId);
  const after = await tx.query<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [runId]);
  return after.rows[0].status;
}

// ---- Results ----------------------------------------------------------------------------

export type ResultRow = {
  seq: number;
  n: number;
  item_id: string;
  label: string;
  target_id: string;
  outcome: ResultOutcome;
  code: string;
  message: string;
};

/** Results in item order (then target order), from after a (seq, n) key, optionally of one
 * outcome; one row more than asked, to tell whether another page follows. */
export async function listResults(
  q: Queryable,
  runId: string,
  options: { outcome?: ResultOutcome; after?: [number, number]; limit: number },
): Promise<ResultRow[]> {
  const values: unknown[] = [runId];
  const add = (value: unknown) => `$${values.push(value)}`;
  const conditions = ['r.run_id = $1'];
  if (options.outcome) conditions.push(`r.outcome = ${add(options.outcome)}`);
  if (options.after) conditions.push(`(r.seq, r.n) > (${add(options.after[0])}::integer, ${add(options.after[1])}::integer)`);
  const { rows } = await q.query<ResultRow>(
    `SELECT r.seq, r.n, i.item_id, i.label, r.target_id, r.outcome, r.code, r.message
     FROM run_results r JOIN run_items i ON i.run_id = r.run_id AND i.seq = r.seq
     WHERE ${conditions.join(' AND ')} ORDER BY r.seq, r.n LIMIT ${options.limit + 1}`,
    values,
  );
  return rows;
}

export async function countResults(q: Queryable, runId: string, outcome?: ResultOutcome): Promise<number> {
  const { rows } = await q.query<{ n: string }>(
    `SELECT count(*) AS n FROM run_results WHERE run_id = $1 ${outcome ? 'AND outcome = $2' : ''}`,
    outcome ? [runId, outcome] : [runId],
  );
  return Number(rows[0].n);
}
