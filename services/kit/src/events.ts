import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { currentCorrelationId, withCorrelationId } from './context';
import type { Queryable } from './db';
import type { Logger } from './logger';

/** What travels on the bus. `id` is also the JetStream msgID, so a publication repeated
 * within the stream's duplicate window is stored once. */
export interface EventEnvelope<T = unknown> {
  id: string;
  /** `<domain>.<aggregate>.<past-verb>.v<major>`, e.g. `identity.user.created.v1`. */
  subject: string;
  time: string;
  correlationId: string;
  data: T;
}

export function envelope<T>(subject: string, data: T): EventEnvelope<T> {
  return { id: randomUUID(), subject, time: new Date().toISOString(), correlationId: currentCorrelationId() ?? '', data };
}

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function connectBus(url: string, name: string, logger: Logger): Promise<Bus> {
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1 });
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') logger.warn({ status: s.type }, 'NATS connection');
    }
  })();
  return {
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    close: () => nc.drain(),
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface StreamOptions {
  /** `IDENTITY`: one stream per producing domain. */
  name: string;
  /** `['identity.>']`: the subjects the domain publishes. */
  subjects: string[];
  /** How long the stream keeps an event (default 7 days). Events carry personal data (names,
   * logins, e-mail addresses): they must not stay on the bus longer than consumers need to
   * catch up after an outage. Consumers keep their inbox at least this long (consumer.ts). */
  maxAgeMs?: number;
  /** How long JetStream remembers the msgIDs (event ids) it stored, to drop a second copy
   * (default 10 minutes; at most maxAgeMs). This is what makes the outbox relay exactly-once:
   * a relay that published an event and crashed (or lost its database) before deleting it
   * from the outbox publishes it again when it comes back; within the window JetStream drops
   * the copy, after it the consumers' inbox (kit_inbox) does. Keep it longer than a relay
   * restart plus the publish retry back-off (30 s at most). */
  duplicateWindowMs?: number;
}

export const STREAM_DEFAULTS = { maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 10 * 60 * 1000 };

/** Creates the producing domain's stream, or brings its subjects, max age and duplicate
 * window up to date. */
export async function ensureStream(bus: Bus, options: StreamOptions): Promise<void> {
  const maxAgeMs = options.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs;
  const duplicateWindowMs = options.duplicateWindowMs ?? Math.min(STREAM_DEFAULTS.duplicateWindowMs, maxAgeMs);
  if (!(maxAgeMs > 0) || !(duplicateWindowMs > 0)) throw new Error(`stream ${options.name}: max age and duplicate window must be positive`);
  if (duplicateWindowMs > maxAgeMs) throw new Error(`stream ${options.name}: the duplicate window must not be longer than the max age`);
  const config = { subjects: options.subjects, max_age: Math.round(maxAgeMs * 1e6), duplicate_window: Math.round(duplicateWindowMs * 1e6) };
  try {
    await bus.jsm.streams.info(options.name);
  } catch (err) {
    if (!/stream not found/i.test(String(err))) throw err;
    await bus.jsm.streams.add({ name: options.name, ...config });
    return;
  }
  await bus.jsm.streams.update(options.name, config);
}

/** Publishes one event with its id as msgID; resolves once JetStream stored it (or knew it). */
export async function publish(bus: Bus, event: EventEnvelope, options: { timeoutMs?: number } = {}): Promise<void> {
  await bus.js.publish(event.subject, JSON.stringify(event), { msgID: event.id, timeout: options.timeoutMs });
}

export interface Delivery {
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  deliveryCount: number;
}

export interface ConsumerOptions {
  bus: Bus;
  stream: string;
  /** `<consumer-service>-<purpose>`, e.g. `assignment-list-enrolment`. */
  durable: string;
  /** One subject filter, wildcards allowed (nats-server 2.9 takes one per consumer). */
  subject: string;
  handler: (event: EventEnvelope, delivery: Delivery) => Promise<void>;
  logger: Logger;
  /** How long the server waits for an ack before redelivering. */
  ackWaitMs?: number;
}

export interface Consumer {
  /** Stops pulling; the event being handled finishes (and is acknowledged) first. */
  stop(): Promise<void>;
}

/** A durable pull consumer: each event is acknowledged only after the handler resolves,
 * that is after the handler's database commit; a failing handler gets the event again
 * later (nak with a growing delay). Handlers must tolerate redelivery: see claimEvent. */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { bus, stream, durable, logger } = options;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.subject,
    ack_wait: (options.ackWaitMs ?? 30_000) * 1e6,
  };
  try {
    await bus.jsm.consumers.info(stream, durable);
    await bus.jsm.consumers.update(stream, durable, { filter_subject: config.filter_subject, ack_wait: config.ack_wait });
  } catch (err) {
    if (!/consumer not found/i.test(String(err))) throw err;
    await bus.jsm.consumers.add(stream, config);
  }
  const consumer = await bus.js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 64 });
  const loop = (async () => {
    for await (const m of messages) {
      let event: EventEnvelope;
      try {
        event = m.json<EventEnvelope>();
      } catch {
        logger.error({ durable, subject: m.subject, seq: m.seq }, 'event is not a JSON envelope: dropped');
        m.term();
        continue;
      }
      await withCorrelationId(event.correlationId || undefined, async () => {
        try {
          await options.handler(event, { deliveryCount: m.info.deliveryCount });
          await m.ackAck();
        } catch (err) {
          const delayMs = Math.min(60_000, 500 * 2 ** Math.min(m.info.deliveryCount, 7));
          logger.error({ err, durable, eventId: event.id, subject: event.subject, delayMs }, 'event handler failed');
          m.nak(delayMs);
        }
      });
    }
  })();
  logger.info({ stream, durable, subject: options.subject }, 'consumer started');
  return {
    async stop() {
      messages.stop();
      await loop;
    },
  };
}

/** Records, in the handler's transaction, that `consumer` applied this event. Returns false
 * when it already had: the handler then skips the work and the event is acknowledged. */
export async function claimEvent(tx: Queryable, consumer: string, eventId: string): Promise<boolean> {
  const result = await tx.query('INSERT INTO kit_inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId]);
  return result.rowCount === 1;
}
