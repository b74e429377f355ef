import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { remainingMs, withContext, withCorrelationId } from './context';
import { prepared, type Database, type Queryable, type Row, type Statement } from './db';
import { isBigintId, storeDeadLetter } from './dead-letters';
import { eventsOf, STREAM_DEFAULTS, type Bus, type EventEnvelope } from './events';
import type { Logger } from './logger';
import { counter } from './metrics';
import type { Emit, Outbox } from './outbox';

export interface HandlerContext {
  /** The transaction the kit opened for this event; the event id is already claimed in it.
   * Do the work here: it commits (with the claim and the emitted events) when the handler
   * resolves, and the event is acknowledged after the commit. */
  tx: Queryable;
  /** Emits events in the same transaction (outbox). */
  emit: Emit;
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  deliveryCount: number;
}

export type EventHandler = (event: EventEnvelope, ctx: HandlerContext) => Promise<void>;

export interface DeliveredEvent {
  event: EventEnvelope;
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  deliveryCount: number;
}

/** A handler of the events that arrived together, in one transaction: for cheap work whose
 * throughput matters (a mail fan-out), done for the whole group in a few statements. The
 * events are in their stream order, already claimed; a group whose transaction fails is
 * handled again one event at a time, so a failing event still fails alone and reaches the
 * dead letters alone. Leave it for handlers that take locks (a group would hold several at
 * once). The events emitted carry the correlation id current when emit is called: wrap in
 * withCorrelationId(event.correlationId, …) to give one event's. */
export type EventGroupHandler = (events: DeliveredEvent[], ctx: Omit<HandlerContext, 'deliveryCount'>) => Promise<void>;

/** One event at a time (handler) or the events that arrived together (groupHandler). */
export type ConsumerHandler = { handler: EventHandler; groupHandler?: never } | { groupHandler: EventGroupHandler; handler?: never };

export type ConsumerOptions = ConsumerSettings & ConsumerHandler;

export interface ConsumerSettings {
  bus: Bus;
  /** The consuming service's outbox: the handler's transaction is one of its transactions. */
  outbox: Outbox;
  /** For the dead letters and the inbox pruning (default: the outbox's database). */
  db?: Database;
  stream: string;
  /** `<consumer-service>-<purpose>`, e.g. `assignment-list-enrolment`; also the inbox's and
   * dead letters' consumer name. */
  durable: string;
  /** One subject filter, wildcards allowed (nats-server 2.9 takes one per consumer). */
  subject: string;
  logger: Logger;
  /** Deliveries after which a failing event goes to the dead letters (default 5). */
  maxDeliveries?: number;
  /** How long the server waits for an ack before delivering again (default 60 s). */
  ackWaitMs?: number;
  /** Messages fetched at once, held by this process until handled (default 8): at most this
   * many, and as many as fit in FETCH_MAX_BYTES at the size of the last fetch's messages. */
  prefetch?: number;
  /** How long the inbox remembers a handled event (default 7 days, the streams' default
   * max age). Keep it at least the stream's max age: an event is not delivered again after
   * it left the stream, and not published again after the relay's longest outage. */
  inboxRetentionMs?: number;
  /** Delay before a failed event is delivered again: initialMs × 2^(deliveries - 1), at most
   * maxMs (defaults 1 s and 60 s). */
  retryDelay?: { initialMs?: number; maxMs?: number };
  /** The consumer's max_ack_pending (default 1000, at least prefetch): events delivered and
   * not acknowledged yet across replicas, those waiting for a retry included. */
  maxAckPending?: number;
}

export interface ReplayResult {
  /** Dead letters applied (or found already applied) and deleted. */
  replayed: string[];
  /** Dead letters that failed again: kept, with the new error and one more delivery. */
  failed: { id: string; error: string }[];
  /** Ids that are not dead letters of this consumer. */
  notFound: string[];
}

/** Where a consumer stands on the server (JetStream consumer info). */
export interface ConsumerLag {
  /** Events in the stream matching its filter not delivered yet. */
  pending: number;
  /** Events delivered and not acknowledged yet (being handled, or waiting for a retry). */
  ackPending: number;
  /** Of those, events delivered more than once. */
  redelivered: number;
}

export interface Consumer {
  readonly durable: string;
  /** Asks the server where this consumer stands. */
  lag(): Promise<ConsumerLag>;
  /** The time each handler gets: ackWaitMs / (prefetch + 1). */
  readonly handlerBudgetMs: number;
  /** Applies dead letters of this consumer again, through the same pipeline (claim and
   * handler in one transaction); each one that succeeds is deleted in that transaction. */
  replay(ids: string[]): Promise<ReplayResult>;
  /** Deletes this consumer's inbox rows older than inboxRetentionMs; returns how many.
   * Runs at start and every hour by itself. */
  pruneInbox(): Promise<number>;
  /** Stops fetching; the event being handled finishes (and is acknowledged) first, the
   * others fetched are handed back to the server at once. */
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Outcomes: handled (applied, or found applied already), retried (failed, delivered again
 * later), dead_lettered (failed for the last time, or not an event). */
const consumed = counter('assistants_consumer_events_total', 'events a consumer took, by outcome', ['consumer', 'outcome']);
const redeliveries = counter('assistants_consumer_redeliveries_total', 'deliveries of an event that was delivered before', ['consumer']);
const FETCH_EXPIRES_MS = 30_000;
/** A group handler gets the events of at most this many bytes of messages at once (or of one message). */
const GROUP_MAX_BYTES = 256 * 1024;
/** About the most a fetch holds in memory. A batch message of the outbox is up to about 256
 * KiB: 128 of them held 20 MB of buffers in the statistics service during a big import, and
 * its resident memory grew with them (BENCHMARKS.md, bench:import d). */
const FETCH_MAX_BYTES = 2 * 1024 * 1024;
/** The first fetch knows nothing of the messages' size: this many of the outbox's largest
 * (batch messages of about 256 KiB) hold FETCH_MAX_BYTES. */
const FIRST_FETCH = 8;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const PRUNE_BATCH = 1000;

/*
 * Prefetch and ack wait. The server starts a message's ack wait when it delivers it, not
 * when the handler gets it: a message fetched with others waits in this process while the
 * ones before it are handled. The rule that keeps it from being delivered again meanwhile:
 *
 *   this process holds at most `prefetch` messages (it fetches `prefetch` at a time and
 *   fetches again once they are all handled), and each handler runs with a deadline of
 *   ackWaitMs / (prefetch + 1)
 *
 * so the last message of a fetch is acknowledged within prefetch × budget, leaving one budget
 * for commits and acks. The deadline stops the handler's statements (db.ts sets
 * statement_timeout from it) and the handler itself (its transaction rolls back). nats.js's
 * consume() refills its buffer in the background once it falls below 75 % of max_messages,
 * so what it holds is only roughly max_messages (max_messages + 1 seen); fetching `prefetch`
 * at a time bounds it by construction. max_ack_pending must be at least prefetch, or
 * fetches come back short.
 *
 * A fetch asks for fewer messages when they are big: as many as FETCH_MAX_BYTES holds at the
 * mean size of the last fetch's that brought any (nats.js takes a count or a byte limit, not
 * both, and the count is what bounds the handlers' budget).
 */
const nextFetchSize = (last: number, prefetch: number, messages: number, bytes: number): number =>
  messages === 0 ? last : Math.max(1, Math.min(prefetch, Math.floor((FETCH_MAX_BYTES * messages) / Math.max(bytes, 1))));

/** A durable pull consumer whose handler cannot skip the de-duplication nor acknowledge
 * before its commit: the kit opens an outbox transaction, claims the event id in kit_inbox
 * (a redelivered event that was applied is acknowledged without calling the handler), runs
 * the handler in it, commits, then acknowledges. A failing handler rolls back and the event
 * comes again after a growing delay; after maxDeliveries it goes to kit_dead_letters. */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { bus, outbox, stream, durable, logger, handler, groupHandler } = options;
  const db = options.db ?? outbox.db;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const ackWaitMs = options.ackWaitMs ?? 60_000;
  const prefetch = options.prefetch ?? 8;
  const inboxRetentionMs = options.inboxRetentionMs ?? STREAM_DEFAULTS.maxAgeMs;
  const retryInitialMs = options.retryDelay?.initialMs ?? 1000;
  const retryMaxMs = options.retryDelay?.maxMs ?? 60_000;
  const maxAckPending = options.maxAckPending ?? Math.max(1000, prefetch);
  const handlerBudgetMs = Math.floor(ackWaitMs / (prefetch + 1));
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error(`consumer ${durable}: prefetch must be a positive integer`);
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1)
    throw new Error(`consumer ${durable}: maxDeliveries must be a positive integer`);
  if (!handler === !groupHandler) throw new Error(`consumer ${durable}: give a handler or a groupHandler`);
  if (maxAckPending < prefetch) throw new Error(`consumer ${durable}: maxAckPending must be at least prefetch`);
  if (handlerBudgetMs < 50) throw new Error(`consumer ${durable}: ackWaitMs / (prefetch + 1) leaves handlers less than 50 ms`);
  if (inboxRetentionMs < DAY_MS)
    logger.warn({ durable, inboxRetentionMs }, 'inbox kept less than a day: redeliveries after that are applied again');

  const config = {
    filter_subject: options.subject,
    ack_wait: Math.round(ackWaitMs * 1e6),
    max_ack_pending: maxAckPending,
    // The kit counts deliveries and moves the event to the dead letters itself: the server
    // must not silently stop delivering an event whose dead letter could not be stored.
    max_deliver: -1,
  };
  try {
    await bus.jsm.consumers.info(stream, durable);
    await bus.jsm.consumers.update(stream, durable, config);
  } catch (err) {
    if (!/consumer not found/i.test(String(err))) throw err;
    await bus.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...config,
    });
  }
  const jsConsumer = await bus.js.consumers.get(stream, durable);

  const retryDelayMs = (deliveryCount: number) => Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(deliveryCount - 1, 20));

  /** Claims + handler calls in one outbox transaction, within the current deadline (several
   * events only for a group handler). Deletes the dead letter of the event in the same
   * transaction when there may be one. */
  async function applyEvents(events: DeliveredEvent[], deadLetter?: { id: string } | { maybe: true }): Promise<void> {
    await outbox.transaction(async (rawTx, emit) => {
      let open = true;
      const tx: Queryable = {
        query: <R extends Row = Row>(text: Statement, params?: unknown[]) =>
          open
            ? rawTx.query<R>(text, params)
            : Promise.reject(new Error(`consumer ${durable}: query after the handler's transaction ended`)),
      };
      try {
        const claimed = await claimEvents(
          rawTx,
          durable,
          events.map((e) => e.event.id),
        );
        const fresh = events.filter((e) => claimed.delete(e.event.id));
        if (groupHandler && fresh.length > 0) await withinDeadline((async () => groupHandler(fresh, { tx, emit }))());
        if (handler) {
          for (const { event, deliveryCount } of fresh) {
            await withContext({ correlationId: event.correlationId || undefined }, () =>
              withinDeadline((async () => handler(event, { tx, emit, deliveryCount }))()),
            );
          }
        }
        const [first] = events;
        if (deadLetter && 'id' in deadLetter) await rawTx.query('DELETE FROM kit_dead_letters WHERE id = $1', [deadLetter.id]);
        else if (deadLetter)
          await rawTx.query('DELETE FROM kit_dead_letters WHERE consumer = $1 AND event_id = $2', [durable, first.event.id]);
      } finally {
        open = false;
      }
    });
  }

  async function withinDeadline(work: Promise<void>): Promise<void> {
    const left = remainingMs() ?? handlerBudgetMs;
    let timer: NodeJS.Timeout | undefined;
    work.catch(() => {}); // when the deadline wins, the handler's own failure is of no interest
    try {
      await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`handler did not finish within its budget of ${handlerBudgetMs} ms`)),
            Math.max(0, left),
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function handle(m: JsMsg): Promise<void> {
    const deliveryCount = m.info.deliveryCount;
    let events: EventEnvelope[];
    try {
      events = eventsOf(m.json());
    } catch {
      // Not an event: nothing to retry. Kept for an operator to look at.
      try {
        await storeDeadLetter(db, {
          consumer: durable,
          stream,
          streamSeq: m.seq,
          subject: m.subject,
          eventId: `${stream}:${m.seq}`,
          envelope: m.string(),
          error: 'not a JSON event envelope',
          deliveries: deliveryCount,
        });
        logger.error({ durable, subject: m.subject, streamSeq: m.seq }, 'message is not an event envelope: moved to the dead letters');
        consumed.inc({ consumer: durable, outcome: 'dead_lettered' });
        m.term();
      } catch (err) {
        logger.error({ err, durable, streamSeq: m.seq }, 'cannot store a dead letter, will retry');
        m.nak(retryDelayMs(deliveryCount));
      }
      return;
    }
    if (events.length > 1) return handleBatch(m, events, deliveryCount);
    const [event] = events;
    await withCorrelationId(event.correlationId || undefined, async () => {
      try {
        // Past maxDeliveries only when storing the dead letter or the term was lost: a
        // success then removes the dead letter.
        const deadLetter = deliveryCount > maxDeliveries ? ({ maybe: true } as const) : undefined;
        await withContext({ deadline: Date.now() + handlerBudgetMs }, () => applyEvents([{ event, deliveryCount }], deadLetter));
      } catch (err) {
        await failed(m, [{ event, err }], deliveryCount);
        return;
      }
      consumed.inc({ consumer: durable, outcome: 'handled' });
      await acknowledge(m, [event]);
    });
  }

  /** After the commit. A lost ack means one more delivery, which the inbox drops. */
  async function acknowledge(m: JsMsg, events: EventEnvelope[]): Promise<void> {
    await m
      .ackAck()
      .catch((err) =>
        logger.warn({ err, durable, eventId: events[0].id, events: events.length }, 'ack not confirmed: the events may come again'),
      );
  }

  /** A message that carries a batch of events: all of them in one transaction; when that
   * fails, each in its own (the claims keep the ones that succeeded from being applied
   * again), so that a failing event fails alone: the message comes again for the events that
   * failed, and after maxDeliveries they go to the dead letters one by one. */
  async function handleBatch(m: JsMsg, events: EventEnvelope[], deliveryCount: number): Promise<void> {
    // Past maxDeliveries only when storing a dead letter or the term was lost: each event
    // alone then, so that a success removes its dead letter.
    if (deliveryCount <= maxDeliveries) {
      const delivered = events.map((event) => ({ event, deliveryCount }));
      try {
        await withCorrelationId(undefined, () => withContext({ deadline: Date.now() + handlerBudgetMs }, () => applyEvents(delivered)));
        consumed.inc({ consumer: durable, outcome: 'handled' }, events.length);
        await acknowledge(m, events);
        return;
      } catch (err) {
        logger.info({ err, durable, events: events.length }, 'a batch of events failed together: handling them one by one');
      }
    }
    const failures: { event: EventEnvelope; err: unknown }[] = [];
    for (const event of events) {
      m.working(); // each event gets a handler's budget: the server waits for the message meanwhile
      const deadLetter = deliveryCount > maxDeliveries ? ({ maybe: true } as const) : undefined;
      try {
        await withCorrelationId(event.correlationId || undefined, () =>
          withContext({ deadline: Date.now() + handlerBudgetMs }, () => applyEvents([{ event, deliveryCount }], deadLetter)),
        );
        consumed.inc({ consumer: durable, outcome: 'handled' });
      } catch (err) {
        failures.push({ event, err });
      }
    }
    if (failures.length === 0) await acknowledge(m, events);
    else await failed(m, failures, deliveryCount);
  }

  /** The messages of a group handler's consumer that arrived together: one transaction for all of
   * them within one handler's budget, so that a group that fails or runs out of time still
   * leaves each message its own budget when they are handled again one by one. */
  async function handleGroup(messages: JsMsg[]): Promise<void> {
    const events: DeliveredEvent[] = [];
    let read = 0;
    for (const m of messages) {
      const deliveryCount = m.info.deliveryCount;
      let carried: EventEnvelope[];
      try {
        carried = eventsOf(m.json());
      } catch {
        break;
      }
      // Anything unusual (not an event, maybe a dead letter to delete) goes the single way.
      if (deliveryCount > maxDeliveries) break;
      for (const event of carried) events.push({ event, deliveryCount });
      read++;
    }
    if (messages.length === 1 || read < messages.length) {
      for (const m of messages) await handle(m);
      return;
    }
    try {
      await withCorrelationId(undefined, () => withContext({ deadline: Date.now() + handlerBudgetMs }, () => applyEvents(events)));
    } catch (err) {
      logger.info({ err, durable, events: events.length }, 'a group of events failed together: handling them one by one');
      for (const m of messages) await handle(m);
      return;
    }
    // One flush confirms the group's acks, where an ackAck each was a request (a timer, a
    // reply, an Error built per message): about a third of a projection's CPU at 64 events a
    // group. A lost ack means one more delivery, which the inbox drops.
    for (const m of messages) m.ack();
    consumed.inc({ consumer: durable, outcome: 'handled' }, events.length);
    await bus.nc
      .flush()
      .catch((err) => logger.warn({ err, durable, events: events.length }, 'acks not confirmed: the events may come again'));
  }

  /** A message whose events (one, or some of a batch) failed: delivered again later, or after
   * maxDeliveries each of them to the dead letters and the message terminated. */
  async function failed(m: JsMsg, failures: { event: EventEnvelope; err: unknown }[], deliveryCount: number): Promise<void> {
    const contextOf = ({ event, err }: { event: EventEnvelope; err: unknown }) => ({
      err,
      durable,
      eventId: event.id,
      subject: event.subject,
      deliveryCount,
    });
    if (deliveryCount < maxDeliveries) {
      const delayMs = retryDelayMs(deliveryCount);
      for (const f of failures) logger.warn({ ...contextOf(f), retryInMs: delayMs }, 'event handler failed, will retry');
      consumed.inc({ consumer: durable, outcome: 'retried' }, failures.length);
      m.nak(delayMs);
      return;
    }
    try {
      for (const f of failures) {
        const id = await storeDeadLetter(db, {
          consumer: durable,
          stream,
          streamSeq: m.seq,
          subject: f.event.subject,
          eventId: f.event.id,
          envelope: f.event,
          error: errorText(f.err),
          deliveries: deliveryCount,
        });
        logger.error({ ...contextOf(f), deadLetterId: id }, 'event handler failed for the last time: moved to the dead letters');
      }
      m.term(); // no reason: nats-server 2.9 ignores a "+TERM <reason>"
      consumed.inc({ consumer: durable, outcome: 'dead_lettered' }, failures.length);
    } catch (storeErr) {
      for (const f of failures) {
        logger.error(
          { ...contextOf(f), storeErr },
          'event handler failed for the last time and the dead letter cannot be stored: will retry',
        );
      }
      m.nak(retryDelayMs(deliveryCount));
    }
  }

  async function pruneInbox(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await db.query(
        `DELETE FROM kit_inbox WHERE consumer = $1 AND event_id IN (
           SELECT event_id FROM kit_inbox WHERE consumer = $1 AND processed_at < now() - $2 * interval '1 millisecond' LIMIT $3)`,
        [durable, inboxRetentionMs, PRUNE_BATCH],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_BATCH) return total;
    }
  }

  const prune = () =>
    withCorrelationId(undefined, () =>
      pruneInbox().then(
        (n) => n > 0 && logger.info({ durable, deleted: n }, 'inbox pruned'),
        (err) => logger.warn({ err, durable }, 'inbox pruning failed'),
      ),
    );
  let pruning = prune();
  const pruneTimer = setInterval(() => (pruning = prune()), PRUNE_EVERY_MS);

  let stopping = false;
  let batch: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  // Detached from the caller's context: no deadline of the caller applies to the loop.
  const loop = withCorrelationId(undefined, async () => {
    let failures = 0;
    let fetchSize = Math.min(prefetch, FIRST_FETCH);
    while (!stopping) {
      try {
        const fetched = await jsConsumer.fetch({ max_messages: fetchSize, expires: FETCH_EXPIRES_MS });
        batch = fetched;
        if (stopping) fetched.stop();
        // Grouped: what arrives while a group is handled forms the next group.
        const waiting: JsMsg[] = [];
        let working: Promise<void> | undefined;
        const drain = async () => {
          // A fetch's messages arrive in a burst: let it land before taking the first group.
          await new Promise((resolve) => setImmediate(resolve));
          while (waiting.length > 0) {
            // Up to GROUP_MAX_BYTES (a batch message holds up to 100 events): one group is
            // one transaction within one handler's budget.
            let bytes = waiting[0].data.length;
            let size = 1;
            while (size < waiting.length && bytes + waiting[size].data.length <= GROUP_MAX_BYTES) bytes += waiting[size++].data.length;
            const group = waiting.splice(0, size);
            if (stopping) group.forEach((m) => m.nak());
            else await handleGroup(group);
          }
          working = undefined;
        };
        let messages = 0;
        let bytes = 0;
        try {
          for await (const m of fetched) {
            messages++;
            bytes += m.data.length;
            if (m.info.deliveryCount > 1) redeliveries.inc({ consumer: durable });
            if (stopping) m.nak();
            else if (!groupHandler) await handle(m);
            else {
              waiting.push(m);
              working ??= drain();
            }
          }
        } finally {
          await working; // fetch again only once every message of this fetch is handled
        }
        fetchSize = nextFetchSize(fetchSize, prefetch, messages, bytes);
        failures = 0;
      } catch (err) {
        if (stopping) break;
        failures++;
        const delayMs = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 10));
        logger.warn({ err, durable, retryInMs: delayMs }, 'fetching events failed, will retry');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      } finally {
        batch = undefined;
      }
    }
  });
  logger.info({ stream, durable, subject: options.subject, prefetch, ackWaitMs, handlerBudgetMs, maxDeliveries }, 'consumer started');

  return {
    durable,
    handlerBudgetMs,
    async lag() {
      const info = await bus.jsm.consumers.info(stream, durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    },
    async replay(ids) {
      const result: ReplayResult = { replayed: [], failed: [], notFound: [] };
      const { rows } = await db.query<{ id: string; envelope: unknown; deliveries: number }>(
        'SELECT id, envelope, deliveries FROM kit_dead_letters WHERE consumer = $1 AND id = ANY($2::bigint[]) ORDER BY id',
        [durable, ids.filter(isBigintId)],
      );
      const found = new Set(rows.map((r) => r.id));
      result.notFound = ids.filter((id) => !found.has(id));
      for (const row of rows) {
        const event = row.envelope as EventEnvelope;
        try {
          if (typeof event?.id !== 'string' || typeof event.subject !== 'string') throw new Error('not a JSON event envelope');
          await withCorrelationId(event.correlationId || undefined, () =>
            withContext({ deadline: Date.now() + handlerBudgetMs }, () =>
              applyEvents([{ event, deliveryCount: row.deliveries + 1 }], { id: row.id }),
            ),
          );
          result.replayed.push(row.id);
          logger.info({ durable, deadLetterId: row.id, eventId: event.id }, 'dead letter replayed');
        } catch (err) {
          await db.query('UPDATE kit_dead_letters SET error = $2, deliveries = deliveries + 1, failed_at = now() WHERE id = $1', [
            row.id,
            errorText(err),
          ]);
          result.failed.push({ id: row.id, error: errorText(err) });
          logger.warn({ err, durable, deadLetterId: row.id }, 'dead letter replay failed');
        }
      }
      return result;
    },
    pruneInbox,
    async stop() {
      stopping = true;
      clearInterval(pruneTimer);
      batch?.stop();
      wake?.();
      await loop;
      await pruning;
    },
  };
}

/** Records, in the handler's transaction, that `consumer` applied these events; returns the
 * ids it had not applied yet (the insert waits for a concurrent claim of the same event to
 * commit or roll back). */
async function claimEvents(tx: Queryable, consumer: string, eventIds: string[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ event_id: string }>(
    prepared('INSERT INTO kit_inbox (consumer, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id'),
    [consumer, eventIds],
  );
  return new Set(rows.map((r) => r.event_id));
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
