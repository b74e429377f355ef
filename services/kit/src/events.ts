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

/** Creates the producing domain's stream, or brings its subjects up to date. One stream per
 * producing domain: `IDENTITY` owns `identity.>`. */
export async function ensureStream(bus: Bus, name: string, subjects: string[]): Promise<void> {
  const config = { name, subjects, duplicate_window: 2 * 60 * 1e9 };
  try {
    await bus.jsm.streams.info(name);
    await bus.jsm.streams.update(name, config);
  } catch (err) {
    if (!/stream not found/i.test(String(err))) throw err;
    await bus.jsm.streams.add(config);
  }
}

export async function publish(bus: Bus, event: EventEnvelope): Promise<void> {
  await bus.js.publish(event.subject, JSON.stringify(event), { msgID: event.id });
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
