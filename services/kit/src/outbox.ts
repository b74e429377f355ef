import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { withCorrelationId } from './context';
import { prepared, type Database, type Queryable } from './db';
import { isBigintId } from './dead-letters';
import { JetStreamApiError } from '@nats-io/jetstream';
import { createInbox, headers, NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { envelope, eventsOf, type Bus, type EventEnvelope } from './events';
import type { Logger } from './logger';
import { counter } from './metrics';

/** Emits an event in the current transaction. `key` is the ordering key, the aggregate the
 * event is about (`user:<id>`, no line break): events of one key reach the stream in the
 * order of their commits. Default: the subject's aggregate part (`identity.user` for
 * `identity.user.created.v1`), which orders all events of that aggregate type (conservative,
 * and slower to publish than a key per aggregate). */
export type Emit = (subject: string, data: unknown, key?: string, options?: EmitOptions) => void;

export interface EmitOptions {
  /** The event may travel in a batch: the events of one subject a transaction emits one after
   * the other with `batch` go to the stream as messages of up to BATCH_MAX_EVENTS envelopes
   * (a JSON array, in their order; eventsOf reads both kinds of message). For the events a
   * bulk change emits by the thousand (an assignment each): one message, one publication,
   * one delivery and one acknowledgement for a hundred of them. The consumers of the subject
   * get each event as before (a handler consumer handles a batch's events in one
   * transaction). */
  batch?: boolean;
}

/** A batch message holds at most this many events, and at most BATCH_MAX_CHARS characters of
 * JSON (NATS refuses messages over its max_payload, 1 MiB by default: 3 bytes a character at
 * most stays under it). */
const BATCH_MAX_EVENTS = 100;
const BATCH_MAX_CHARS = 256 * 1024;

export interface Outbox {
  /** A database transaction that may emit events: they are stored with the change, in the
   * same commit, and published after it. Nothing is published for a rolled-back change.
   * The transaction never waits on NATS. */
  transaction<T>(fn: (tx: Queryable, emit: Emit) => Promise<T>): Promise<T>;
  /** The database the outbox writes to. */
  readonly db: Database;
  /** Starts the relay that publishes stored events to JetStream (one replica at a time). */
  start(): void;
  /** Publishes everything stored so far (waiting for the replica that holds the relay lease,
   * if another does); throws when that fails or something is still pending afterwards.
   * Events moved aside as unpublishable do not count. */
  flush(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops the relay: waits for the round in progress, makes a last attempt unless NATS is
   * known to be unreachable, and gives up the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

export interface OutboxOptions {
  db: Database;
  /** The service whose outbox it is: the `service` label of its metrics. */
  service?: string;
  bus: Bus;
  logger: Logger;
  /** How often the relay looks for events committed by other replicas (default 1 s). */
  pollMs?: number;
  /** Events read per round (default 500). */
  batchSize?: number;
  /** How long the relay lease lasts without renewal (default 15 s): a replica that dies
   * holding it is replaced after that long. */
  leaseMs?: number;
  /** How long one publication waits for JetStream's answer (default 5 s, at most leaseMs / 3). */
  publishTimeoutMs?: number;
  /** Retry delays after a failed round: initialMs, doubled each time up to maxMs, with
   * jitter (defaults 500 ms and 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

/*
 * Ordering. An event is inserted into kit_outbox at the END of its transaction, after every
 * row lock the transaction took, and gets its seq then. Two transactions that change the same
 * aggregate are serialised by its row lock (or the second can only see the row once the
 * first committed), so the second one's events get higher seqs than the first's: for one
 * aggregate, seq order is commit order. A gap in seq (a lower seq not visible yet, its
 * transaction still open) therefore belongs to another aggregate, or to a transaction that
 * does not conflict with the ones around it, whose order is not defined anyway: the relay
 * picks it up in a later round. Hence the relay never deletes by range (`seq <= max`, which
 * lost such events): it deletes exactly the seqs JetStream acknowledged.
 *
 * Within a round, events are published pipelined, but with at most one event per key in
 * flight: the batch (in seq order) is cut into windows, a window ending where a key repeats;
 * the next window starts once every publication of the current one is acknowledged. At the
 * first transient failure the round stops: what was acknowledged is deleted, the failed event
 * and everything after it stays for the next round, so a later event of the same key is never
 * stored before an earlier one.
 *
 * Exactly once: an event acknowledged but not deleted yet (crash, database unreachable) is
 * published again later with the same msgID; JetStream drops the copy within the stream's
 * duplicate window (events.ts), consumers' inbox after it.
 */

const DEFAULT_KEY_PARTS = 2;
/** Between the keys of a batch's events in its outbox row. */
const KEY_SEPARATOR = '\n';
/** Between the envelopes of one insert: a control character JSON text never holds unescaped. */
const RECORD_SEPARATOR = '\x1e';

const published = counter('assistants_outbox_published_total', 'events the outbox relay published to JetStream', ['service']);
const movedAside = counter(
  'assistants_outbox_unpublishable_total',
  'events the relay moved to kit_outbox_unpublishable (they can never be published)',
  ['service'],
);
const relayFailures = counter('assistants_outbox_relay_failures_total', 'relay rounds that failed (NATS or the database away)', [
  'service',
]);

/** The ordering key used when emit is not given one: `identity.user` for `identity.user.created.v1`. */
export function defaultEventKey(subject: string): string {
  return subject.split('.').slice(0, DEFAULT_KEY_PARTS).join('.');
}

interface OutboxRow {
  seq: string;
  /** The ordering key of its event; of a batch, its events' keys joined by KEY_SEPARATOR. */
  key: string;
  subject: string;
  /** The envelope's id. */
  id: string;
  /** The envelope as the service stored it (JSON). */
  json: string;
}

type Published =
  | { seq: string; outcome: 'acked' }
  | { seq: string; outcome: 'poison'; reason: string }
  | { seq: string; outcome: 'failed'; error: unknown };

type RoundOutcome = { kind: 'done'; full: boolean } | { kind: 'not-holder' } | { kind: 'failed'; error: unknown };

export function createOutbox(options: OutboxOptions): Outbox {
  const { db, bus, logger } = options;
  const labels = { service: options.service ?? '' };
  const pollMs = options.pollMs ?? 1000;
  const batchSize = options.batchSize ?? 500;
  const leaseMs = options.leaseMs ?? 15_000;
  const publishTimeoutMs = Math.min(options.publishTimeoutMs ?? 5000, Math.floor(leaseMs / 3));
  const initialBackoffMs = options.backoff?.initialMs ?? 500;
  const maxBackoffMs = options.backoff?.maxMs ?? 30_000;
  const me = randomUUID();

  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RoundOutcome> | undefined;
  let again = false;
  let failures = 0;
  let retryAt = 0;
  /** performance.now() when the lease was last taken or renewed (it was valid until then + leaseMs). */
  let leaseAt = -Infinity;

  /** Takes the lease, or renews it when this replica holds it. One short statement. */
  async function takeLease(): Promise<boolean> {
    const asked = performance.now();
    const { rowCount } = await db.query(
      prepared(`UPDATE kit_outbox_relay SET holder = $1, expires_at = now() + $2 * interval '1 millisecond'
        WHERE id = 1 AND (holder = $1 OR holder IS NULL OR expires_at < now())`),
      [me, leaseMs],
    );
    leaseAt = rowCount === 1 ? asked : -Infinity;
    return rowCount === 1;
  }

  /** True while the lease is certainly ours for longer than one publication takes. */
  async function keepLease(): Promise<boolean> {
    return performance.now() - leaseAt < leaseMs / 3 || (await takeLease());
  }

  /** Why an event can never be published, or undefined when the failure may pass. */
  async function permanentFailure(
    row: OutboxRow,
    err: unknown,
    streamOf: Map<string, Promise<boolean | undefined>>,
  ): Promise<string | undefined> {
    const e = err as { name?: string; message?: string; code?: number; cause?: { name?: string } };
    if (e.name === 'InvalidArgumentError' && /max_payload/.test(e.message ?? '')) {
      const bytes = Buffer.byteLength(row.json);
      return `payload of ${bytes} bytes is larger than the server's max_payload (${bus.nc.info?.max_payload ?? 'unknown'} bytes)`;
    }
    if (e.name === 'InvalidSubjectError') return `invalid subject: ${e.message}`;
    // JSStreamMessageExceedsMaximumErr: larger than the stream's max_msg_size.
    if (e.name === 'JetStreamApiError' && e.code === 10054) return `rejected by the stream: ${e.message}`;
    // "No responders": nobody listens on the subject, either because no stream owns it or
    // because JetStream is (re)starting. Only the JetStream API answering "no stream matches"
    // makes it permanent.
    if (e.name === 'JetStreamNotEnabled' || e.name === 'NoResponders' || e.cause?.name === 'NoResponders') {
      if (!streamOf.has(row.subject)) {
        streamOf.set(
          row.subject,
          bus.jsm.streams.find(row.subject).then(
            () => true,
            (findErr: { name?: string }) => (findErr?.name === 'StreamNotFoundError' ? false : undefined),
          ),
        );
      }
      if ((await streamOf.get(row.subject)) === false) return `no stream owns subject ${row.subject}`;
    }
    return undefined;
  }

  /** Publishes a window's events at once, each to JetStream with its id as msgID, and waits
   * for every answer (or the publish timeout). The answers come to one subscription of the
   * window: nats.js's publish is a request each (a timer, promises and an Error built per
   * event), about half of a relay's CPU when it publishes thousands of events. Each
   * event's outcome is the one a request would have had: a JetStream error, no responders,
   * a timeout, or what the client refuses to send (max_payload, an invalid subject). */
  async function publishWindow(window: OutboxRow[], streamOf: Map<string, Promise<boolean | undefined>>): Promise<Published[]> {
    const errors: (unknown | null | undefined)[] = new Array(window.length).fill(undefined); // null: acknowledged
    let waiting = window.length;
    let answered!: () => void;
    const allAnswered = new Promise<void>((resolve) => (answered = resolve));
    const settle = (i: number, error: unknown | null) => {
      if (errors[i] !== undefined) return;
      errors[i] = error;
      if (--waiting === 0) answered();
    };
    const inbox = createInbox();
    const sub = bus.nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err) return; // the subscription ended: the unanswered ones time out
        const i = Number(msg.subject.slice(inbox.length + 1));
        if (!(i >= 0 && i < window.length)) return;
        if (msg.data.length === 0 && msg.headers?.code === 503) return settle(i, new NoRespondersError(window[i].subject));
        try {
          const answer = JSON.parse(msg.string()) as { stream?: string; error?: { code: number; err_code: number; description: string } };
          if (answer.error) settle(i, new JetStreamApiError(answer.error));
          else if (!answer.stream) settle(i, new Error('invalid ack response'));
          else settle(i, null);
        } catch (parseErr) {
          settle(i, parseErr);
        }
      },
    });
    const timer = setTimeout(() => window.forEach((_, i) => settle(i, new TimeoutError())), publishTimeoutMs);
    try {
      window.forEach((row, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', row.id);
        try {
          bus.nc.publish(row.subject, row.json, { reply: `${inbox}.${i}`, headers: h });
        } catch (err) {
          settle(i, err);
        }
      });
      await allAnswered;
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    return Promise.all(
      window.map(async (row, i): Promise<Published> => {
        const err = errors[i];
        if (err === null) return { seq: row.seq, outcome: 'acked' };
        const reason = await permanentFailure(row, err, streamOf);
        return reason ? { seq: row.seq, outcome: 'poison', reason } : { seq: row.seq, outcome: 'failed', error: err };
      }),
    );
  }

  /** One round: read a batch (one short query, no connection kept), take or renew the lease,
   * publish the batch window by window, then delete what was acknowledged and move aside what
   * never will be (one short query). */
  async function round(): Promise<RoundOutcome> {
    // The envelope as text: published as it is, not parsed into objects to be written again.
    const { rows } = await db.query<OutboxRow & Record<string, unknown>>(
      prepared(
        `SELECT seq, key, subject, coalesce(event_id, envelope->>'id') AS id, envelope::text AS json FROM kit_outbox ORDER BY seq LIMIT $1`,
      ),
      [batchSize],
    );
    // The lease is taken only when there is something to publish: an idle relay writes nothing.
    if (rows.length === 0) return { kind: 'done', full: false };
    if (!(await takeLease())) return { kind: 'not-holder' };
    const acked: string[] = [];
    const poison: { row: OutboxRow; reason: string }[] = [];
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    // A row's events' ordering keys (a batch row holds several), split once for the round.
    const keysOf = new Map(rows.map((r) => [r.seq, r.key.split(KEY_SEPARATOR)]));
    const streamOf = new Map<string, Promise<boolean | undefined>>();
    let outcome: RoundOutcome = { kind: 'done', full: rows.length === batchSize };
    for (const window of windows(rows, keysOf)) {
      if (!(await keepLease())) {
        outcome = { kind: 'not-holder' };
        break;
      }
      const results = await publishWindow(window, streamOf);
      for (const r of results) {
        if (r.outcome === 'acked') acked.push(r.seq);
        else if (r.outcome === 'poison') poison.push({ row: bySeq.get(r.seq)!, reason: r.reason });
        else if (outcome.kind !== 'failed') outcome = { kind: 'failed', error: r.error };
      }
      if (outcome.kind === 'failed') break;
    }
    if (acked.length > 0 || poison.length > 0) {
      await db.query(
        prepared(`WITH moved AS (
           DELETE FROM kit_outbox o USING unnest($2::bigint[], $3::text[]) AS p(seq, reason)
            WHERE o.seq = p.seq
           RETURNING o.seq, o.subject, o.key, o.envelope, o.created_at, p.reason
         ), kept AS (
           INSERT INTO kit_outbox_unpublishable (seq, subject, key, envelope, created_at, reason)
           SELECT seq, subject, key, envelope, created_at, reason FROM moved
           ON CONFLICT (seq) DO UPDATE SET reason = EXCLUDED.reason, moved_at = now()
         )
         DELETE FROM kit_outbox WHERE seq = ANY($1::bigint[])`),
        [acked, poison.map((p) => p.row.seq), poison.map((p) => p.reason)],
      );
      // Events, not messages: a row holds a key per event.
      published.inc(
        labels,
        acked.reduce((n, seq) => n + keysOf.get(seq)!.length, 0),
      );
      movedAside.inc(labels, poison.length);
      for (const { row, reason } of poison) {
        logger.error(
          { subject: row.subject, eventId: row.id, seq: row.seq, reason },
          'outbox relay: event can never be published, moved to kit_outbox_unpublishable',
        );
      }
    }
    return outcome;
  }

  /** Rounds until the outbox is empty (as far as this replica can see), a round fails, or
   * another replica holds the lease. Never throws. */
  async function rounds(): Promise<RoundOutcome> {
    try {
      for (;;) {
        const outcome = await round();
        if (outcome.kind !== 'done' || !outcome.full) return outcome;
      }
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  function arm(delayMs: number) {
    clearTimeout(timer);
    timer = started ? setTimeout(() => void drain(), Math.max(0, delayMs)) : undefined;
  }

  /** Runs rounds, once at a time (a call during a run makes it go round again), then
   * schedules the next run: the poll interval after a success, the back-off after a failure. */
  function drain(): Promise<RoundOutcome> {
    if (running) {
      again = true;
      return running;
    }
    // Detached from the caller's context: no deadline of a request applies to the relay.
    running = withCorrelationId(undefined, async () => {
      let outcome: RoundOutcome;
      try {
        do {
          again = false;
          outcome = await rounds();
        } while (again && outcome.kind === 'done');
      } finally {
        running = undefined;
      }
      if (outcome.kind === 'failed') {
        relayFailures.inc(labels);
        failures++;
        const delayMs = backoffDelayMs(failures, initialBackoffMs, maxBackoffMs);
        retryAt = Date.now() + delayMs;
        logger.warn({ err: outcome.error, failures, retryInMs: delayMs }, 'outbox relay: publishing failed, will retry');
        arm(delayMs);
      } else {
        if (failures > 0) logger.info({ failures }, 'outbox relay: publishing again');
        failures = 0;
        retryAt = 0;
        arm(pollMs);
      }
      return outcome;
    });
    return running;
  }

  return {
    db,
    async transaction(fn) {
      const result = await db.transaction(async (tx) => {
        const pending: PendingEvent[] = [];
        let open = true;
        const emit: Emit = (subject, data, key, emitOptions) => {
          if (!open) throw new Error(`emit(${subject}) after its transaction ended`);
          if (key?.includes(KEY_SEPARATOR)) throw new Error(`emit(${subject}): an ordering key holds no line break`);
          pending.push({ event: envelope(subject, data), key: key ?? defaultEventKey(subject), batch: emitOptions?.batch === true });
        };
        const value = await fn(tx, emit);
        open = false;
        const messages = toMessages(pending);
        // Inserted last, after every lock fn took: see "Ordering" above.
        for (let i = 0; i < messages.length; i += 5000) {
          const chunk = messages.slice(i, i + 5000);
          // The envelopes go as one text, separated by U+001E (JSON.stringify escapes every
          // control character, so it never occurs inside one), each then checked as json: one
          // parse of each envelope. 5,000 events of 700 bytes: ~36 ms; as one JSON array (parsed
          // twice: the parameter, then json_array_elements) ~50 ms, ~67 ms when each was then
          // made jsonb; as a json[] parameter (escaped into an array literal, parsed back) ~320 ms.
          await tx.query(
            prepared(`INSERT INTO kit_outbox (subject, key, event_id, envelope)
             SELECT e.subject, e.key, e.id, j.envelope::json
               FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(subject, key, id, n)
               JOIN string_to_table($4, $5) WITH ORDINALITY AS j(envelope, n) ON j.n = e.n
              ORDER BY e.n`),
            [
              chunk.map((m) => m.subject),
              chunk.map((m) => m.key),
              chunk.map((m) => m.id),
              chunk.map((m) => m.json).join(RECORD_SEPARATOR),
              RECORD_SEPARATOR,
            ],
          );
        }
        return value;
      });
      // Publish now, unless NATS failed lately: then the back-off decides when to try again.
      if (started && Date.now() >= retryAt) void drain();
      return result;
    },
    start() {
      if (started) return;
      started = true;
      void drain();
    },
    async flush(flushOptions = {}) {
      const deadline = Date.now() + (flushOptions.timeoutMs ?? 30_000);
      const mark = (await db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM kit_outbox')).rows[0].seq;
      if (mark === null) return;
      let before = Infinity;
      for (;;) {
        const outcome = await drain();
        if (outcome.kind === 'failed') throw outcome.error;
        const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM kit_outbox WHERE seq <= $1', [mark]);
        const pending = Number(rows[0].n);
        if (pending === 0) return;
        // Go on while rounds make progress (a lower seq committed during the round shows up
        // afterwards) or another replica holds the lease (wait for it to publish).
        const stuck = outcome.kind === 'done' && pending >= before;
        if (stuck || Date.now() > deadline) throw new Error(`outbox: ${pending} events not published yet`);
        before = outcome.kind === 'done' ? pending : Infinity;
        if (outcome.kind === 'not-holder') await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const wasStarted = started;
      started = false;
      clearTimeout(timer);
      await running;
      if (wasStarted && failures === 0) await drain();
      clearTimeout(timer);
      await db
        .query(`UPDATE kit_outbox_relay SET holder = NULL, expires_at = '-infinity' WHERE id = 1 AND holder = $1`, [me])
        .catch((err) => logger.warn({ err }, 'outbox relay: could not give up the lease'));
    },
  };
}

interface PendingEvent {
  event: EventEnvelope;
  key: string;
  batch: boolean;
}

/** The messages of a transaction's events, in their order: each event alone, except the runs
 * of events of one subject emitted with `batch`, packed by BATCH_MAX_EVENTS (and
 * BATCH_MAX_CHARS). A batch's id, its message id on the stream, is its first event's id (an
 * event is in one message only). */
function toMessages(pending: PendingEvent[]): { subject: string; key: string; id: string; json: string }[] {
  const messages: { subject: string; key: string; id: string; json: string }[] = [];
  let batch: { subject: string; keys: string[]; id: string; jsons: string[]; chars: number } | undefined;
  const close = () => {
    if (!batch) return;
    const { subject, keys, id, jsons } = batch;
    messages.push({ subject, key: keys.join(KEY_SEPARATOR), id, json: jsons.length === 1 ? jsons[0] : `[${jsons.join(',')}]` });
    batch = undefined;
  };
  for (const { event, key, batch: batched } of pending) {
    const json = JSON.stringify(event);
    if (
      !batched ||
      batch?.subject !== event.subject ||
      batch.keys.length >= BATCH_MAX_EVENTS ||
      batch.chars + json.length > BATCH_MAX_CHARS
    )
      close();
    if (!batched) messages.push({ subject: event.subject, key, id: event.id, json });
    else if (batch) {
      batch.keys.push(key);
      batch.jsons.push(json);
      batch.chars += json.length + 1;
    } else batch = { subject: event.subject, keys: [key], id: event.id, jsons: [json], chars: json.length + 2 };
  }
  close();
  return messages;
}

/** The batch, in seq order, cut into windows holding at most one event per key. */
function windows(rows: OutboxRow[], keysOf: Map<string, string[]>): OutboxRow[][] {
  const result: OutboxRow[][] = [];
  let current: OutboxRow[] = [];
  let keys = new Set<string>();
  for (const row of rows) {
    const rowKeys = keysOf.get(row.seq)!;
    if (rowKeys.some((k) => keys.has(k))) {
      result.push(current);
      current = [];
      keys = new Set();
    }
    current.push(row);
    for (const k of rowKeys) keys.add(k);
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** initialMs × 2^(failures - 1), at most maxMs, then a random 50–100 % of it (so replicas
 * and services that failed together do not retry together). */
export function backoffDelayMs(failures: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

export interface OutboxStatus {
  /** Events waiting to be published. */
  pending: number;
  /** Age of the oldest of them (0 when none). */
  oldestPendingSeconds: number;
  /** Events moved aside because they can never be published (kit_outbox_unpublishable). */
  unpublishable: number;
}

export async function outboxStatus(db: Queryable): Promise<OutboxStatus> {
  const { rows } = await db.query<{ pending: string; oldest: string | null; unpublishable: string }>(
    `SELECT (SELECT count(*) FROM kit_outbox) AS pending,
            (SELECT extract(epoch FROM now() - min(created_at)) FROM kit_outbox) AS oldest,
            (SELECT count(*) FROM kit_outbox_unpublishable) AS unpublishable`,
  );
  return {
    pending: Number(rows[0].pending),
    oldestPendingSeconds: Math.max(0, Number(rows[0].oldest ?? 0)),
    unpublishable: Number(rows[0].unpublishable),
  };
}

export interface UnpublishableEvent {
  seq: string;
  subject: string;
  key: string;
  eventId: string;
  /** The event, or the events of a batch. */
  envelope: EventEnvelope | EventEnvelope[];
  reason: string;
  createdAt: Date;
  movedAt: Date;
}

/** The events moved aside, oldest first. */
export async function listUnpublishable(db: Queryable, page: { limit: number; offset?: number }): Promise<UnpublishableEvent[]> {
  const { rows } = await db.query<{
    seq: string;
    subject: string;
    key: string;
    envelope: EventEnvelope | EventEnvelope[];
    reason: string;
    created_at: Date;
    moved_at: Date;
  }>(
    `SELECT seq, subject, key, envelope, reason, created_at, moved_at FROM kit_outbox_unpublishable
      ORDER BY seq LIMIT $1 OFFSET $2`,
    [page.limit, page.offset ?? 0],
  );
  return rows.map((r) => ({
    seq: r.seq,
    subject: r.subject,
    key: r.key,
    eventId: eventsOf(r.envelope)[0].id, // a batch's id is its first event's
    envelope: r.envelope,
    reason: r.reason,
    createdAt: r.created_at,
    movedAt: r.moved_at,
  }));
}

/** Moves events back to the outbox (once their cause is fixed: the stream now owns the
 * subject, the server takes larger messages), with their seq; returns how many moved. */
export async function retryUnpublishable(db: Queryable, seqs: string[]): Promise<number> {
  const { rowCount } = await db.query(
    `WITH moved AS (DELETE FROM kit_outbox_unpublishable WHERE seq = ANY($1::bigint[]) RETURNING seq, subject, key, envelope, created_at)
     INSERT INTO kit_outbox (seq, subject, key, event_id, envelope, created_at)
     SELECT seq, subject, key, coalesce(envelope->>'id', envelope->0->>'id'), envelope, created_at FROM moved`,
    [seqs.filter(isBigintId)],
  );
  return rowCount ?? 0;
}
