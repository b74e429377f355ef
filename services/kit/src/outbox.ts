import type { Database, Queryable } from './db';
import { envelope, publish, type Bus, type EventEnvelope } from './events';
import type { Logger } from './logger';

export type Emit = (subject: string, data: unknown) => void;

export interface Outbox {
  /** A database transaction that may emit events: they are stored with the change, in the
   * same commit, and published after it. Nothing is published for a rolled-back change. */
  transaction<T>(fn: (tx: Queryable, emit: Emit) => Promise<T>): Promise<T>;
  /** Starts the relay that publishes stored events to JetStream, in order. */
  start(): void;
  /** Publishes everything stored so far. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const BATCH = 500;

export function createOutbox(options: { db: Database; bus: Bus; logger: Logger; pollMs?: number }): Outbox {
  const { db, bus, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  /** One batch, under a lock so that replicas publish one at a time and in order. */
  async function publishBatch(): Promise<number> {
    return db.transaction(async (tx) => {
      const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':outbox')) AS ok`);
      if (!lock.rows[0].ok) return 0;
      const { rows } = await tx.query<{ seq: string; envelope: EventEnvelope }>(
        'SELECT seq, envelope FROM kit_outbox ORDER BY seq LIMIT $1',
        [BATCH],
      );
      if (rows.length === 0) return 0;
      // Sent back to back on one connection, so the stream stores them in this order.
      await Promise.all(rows.map((r) => publish(bus, r.envelope)));
      await tx.query('DELETE FROM kit_outbox WHERE seq <= $1', [rows[rows.length - 1].seq]);
      return rows.length;
    });
  }

  function drain(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          while ((await publishBatch()) === BATCH);
        } while (again);
      } catch (err) {
        logger.warn({ err }, 'outbox relay: publishing failed, will retry');
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    async transaction(fn) {
      const result = await db.transaction(async (tx) => {
        const pending: EventEnvelope[] = [];
        const value = await fn(tx, (subject, data) => pending.push(envelope(subject, data)));
        for (let i = 0; i < pending.length; i += 5000) {
          const chunk = pending.slice(i, i + 5000);
          await tx.query('INSERT INTO kit_outbox (subject, envelope) SELECT * FROM unnest($1::text[], $2::jsonb[])', [
            chunk.map((e) => e.subject),
            chunk.map((e) => JSON.stringify(e)),
          ]);
        }
        return value;
      });
      if (timer) void drain();
      return result;
    },
    start() {
      timer = setInterval(() => void drain(), options.pollMs ?? 1000);
      void drain();
    },
    async flush() {
      await drain();
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM kit_outbox');
      if (Number(rows[0].n) > 0) throw new Error(`outbox: ${rows[0].n} events not published yet`);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await drain();
    },
  };
}
