import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { currentCorrelationId } from './context';
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

/** The events one message of a stream carries: one envelope, or an array of envelopes (a
 * batch: events of one subject a transaction emitted one after the other, in their order; see
 * EmitOptions in outbox.ts). Throws when the body is neither. */
export function eventsOf(body: unknown): EventEnvelope[] {
  const events = Array.isArray(body) ? body : [body];
  for (const event of events) {
    const e = event as Partial<EventEnvelope> | null;
    if (typeof e?.id !== 'string' || typeof e.subject !== 'string') throw new Error('not an event envelope');
  }
  if (events.length === 0) throw new Error('an empty batch of events');
  return events as EventEnvelope[];
}

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function connectBus(url: string, name: string, logger: Logger): Promise<Bus> {
  // Without async traces: every JetStream publish is a request, and with them each built an
  // Error (a stack trace) before it was sent, in case it failed: about a third of an outbox
  // relay's CPU when a batch of 5,000 assignments is published. Errors keep their message.
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, noAsyncTraces: true });
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
  /** Copies of the stream kept by a JetStream cluster (default 1). With 3, the stream and
   * its consumers (which inherit it) survive the loss of one NATS server. Changing it on an
   * existing stream asks the cluster to add or drop copies. */
  replicas?: number;
}

export const STREAM_DEFAULTS = { maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 10 * 60 * 1000 };

/** Creates the producing domain's stream, or brings its subjects, max age, replicas and duplicate
 * window up to date. */
export async function ensureStream(bus: Bus, options: StreamOptions): Promise<void> {
  const maxAgeMs = options.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs;
  const duplicateWindowMs = options.duplicateWindowMs ?? Math.min(STREAM_DEFAULTS.duplicateWindowMs, maxAgeMs);
  if (!(maxAgeMs > 0) || !(duplicateWindowMs > 0)) throw new Error(`stream ${options.name}: max age and duplicate window must be positive`);
  if (duplicateWindowMs > maxAgeMs) throw new Error(`stream ${options.name}: the duplicate window must not be longer than the max age`);
  const config = {
    subjects: options.subjects,
    max_age: Math.round(maxAgeMs * 1e6),
    duplicate_window: Math.round(duplicateWindowMs * 1e6),
    num_replicas: options.replicas ?? 1,
  };
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
