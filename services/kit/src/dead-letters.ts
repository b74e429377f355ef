import type { Queryable } from './db';

/** An event a consumer's handler failed on `maxDeliveries` times (consumer.ts). It is no
 * longer delivered; an operator replays it (Consumer.replay) once the cause is fixed, or
 * discards it. */
export interface DeadLetter {
  id: string;
  /** The durable consumer's name. */
  consumer: string;
  stream: string;
  streamSeq: number;
  subject: string;
  eventId: string;
  /** The event envelope as delivered (a JSON string for a message that was not one). */
  envelope: unknown;
  /** The last error. */
  error: string;
  /** How many times it was handled and failed, replays included. */
  deliveries: number;
  failedAt: Date;
}

interface DeadLetterRow {
  id: string;
  consumer: string;
  stream: string;
  stream_seq: string;
  subject: string;
  event_id: string;
  envelope: unknown;
  error: string;
  deliveries: number;
  failed_at: Date;
}

function fromRow(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    consumer: r.consumer,
    stream: r.stream,
    streamSeq: Number(r.stream_seq),
    subject: r.subject,
    eventId: r.event_id,
    envelope: r.envelope,
    error: r.error,
    deliveries: r.deliveries,
    failedAt: r.failed_at,
  };
}

/** The dead letters, oldest first; of one consumer when given. */
export async function listDeadLetters(db: Queryable, page: { consumer?: string; limit: number; offset?: number }): Promise<DeadLetter[]> {
  const { rows } = await db.query<DeadLetterRow & Record<string, unknown>>(
    `SELECT id, consumer, stream, stream_seq, subject, event_id, envelope, error, deliveries, failed_at
       FROM kit_dead_letters WHERE $1::text IS NULL OR consumer = $1 ORDER BY id LIMIT $2 OFFSET $3`,
    [page.consumer ?? null, page.limit, page.offset ?? 0],
  );
  return rows.map(fromRow);
}

/** How many dead letters each consumer has (consumers without any are absent). */
export async function deadLetterCount(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<{ consumer: string; n: string }>(
    'SELECT consumer, count(*) AS n FROM kit_dead_letters GROUP BY consumer',
  );
  return Object.fromEntries(rows.map((r) => [r.consumer, Number(r.n)]));
}

/** Deletes dead letters without applying them; returns how many were deleted. */
export async function discardDeadLetters(db: Queryable, ids: string[]): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM kit_dead_letters WHERE id = ANY($1::bigint[])', [ids.filter(isBigintId)]);
  return rowCount ?? 0;
}

/** Stores (or, for an event already there, updates) a dead letter. One short statement. */
export async function storeDeadLetter(db: Queryable, letter: Omit<DeadLetter, 'id' | 'failedAt'>): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO kit_dead_letters (consumer, stream, stream_seq, subject, event_id, envelope, error, deliveries)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (consumer, event_id) DO UPDATE
       SET stream_seq = EXCLUDED.stream_seq, error = EXCLUDED.error, deliveries = EXCLUDED.deliveries, failed_at = now()
     RETURNING id`,
    [
      letter.consumer,
      letter.stream,
      letter.streamSeq,
      letter.subject,
      letter.eventId,
      JSON.stringify(letter.envelope),
      letter.error,
      letter.deliveries,
    ],
  );
  return rows[0].id;
}

/** Dead letter ids and outbox seqs are bigints, passed as strings; anything else matches nothing. */
export function isBigintId(id: string): boolean {
  return /^[0-9]{1,18}$/.test(id);
}
