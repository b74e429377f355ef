import { connectBus, createLogger } from '@assistants/kit';
import pg from 'pg';

/** The events of the suite at one instant: what is still to publish or to consume. */
export interface EventState {
  /** schema -> events stored by the outbox and not published yet. */
  outbox: Record<string, number>;
  /** schema -> events its consumers gave up on (the kit's dead letters). */
  deadLetters: Record<string, number>;
  streams: { name: string; lastSeq: number; messages: number }[];
  consumers: {
    stream: string;
    name: string;
    /** Matching events not delivered yet. */
    pending: number;
    /** Delivered, not acknowledged yet. */
    ackPending: number;
    redelivered: number;
    ackFloor: number;
    delivered: number;
  }[];
}

/** Every outbox, dead-letter table, stream and durable consumer of the suite on this
 * database and NATS server. */
export async function readEventState(databaseUrl: string, natsUrl: string): Promise<EventState> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const state: EventState = { outbox: {}, deadLetters: {}, streams: [], consumers: [] };
  try {
    const { rows } = await db.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
        WHERE table_name IN ('kit_outbox', 'kit_dead_letters') ORDER BY 1, 2`,
    );
    for (const { schema, table } of rows) {
      const count = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
      (table === 'kit_outbox' ? state.outbox : state.deadLetters)[schema] = count.rows[0]!.n;
    }
  } finally {
    await db.end();
  }
  const bus = await connectBus(natsUrl, 'invariants', createLogger('invariants', 'silent'));
  try {
    for await (const stream of bus.jsm.streams.list()) {
      const name = stream.config.name;
      state.streams.push({ name, lastSeq: stream.state.last_seq, messages: stream.state.messages });
      for await (const c of bus.jsm.consumers.list(name)) {
        state.consumers.push({
          stream: name,
          name: c.name,
          pending: c.num_pending,
          ackPending: c.num_ack_pending,
          redelivered: c.num_redelivered,
          ackFloor: c.ack_floor.stream_seq,
          delivered: c.delivered.stream_seq,
        });
      }
    }
  } finally {
    await bus.close();
  }
  return state;
}

/** Nothing left to publish, every consumer caught up (nothing pending, nothing unacknowledged). */
export function eventsSettled(state: EventState): boolean {
  return Object.values(state.outbox).every((n) => n === 0) && state.consumers.every((c) => c.pending === 0 && c.ackPending === 0);
}

/** Polls until eventsSettled (or the deadline): the last state read. */
export async function waitEventsSettled(databaseUrl: string, natsUrl: string, timeoutMs: number): Promise<EventState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readEventState(databaseUrl, natsUrl).catch(() => undefined);
    if (state && (eventsSettled(state) || Date.now() > deadline)) return state;
    if (!state && Date.now() > deadline) return readEventState(databaseUrl, natsUrl);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Lines describing `state` for a summary. */
export function describeEventState(state: EventState): string[] {
  const lines = [
    `outbox backlog: ${Object.entries(state.outbox)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `dead letters: ${Object.entries(state.deadLetters)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
  ];
  for (const s of state.streams) lines.push(`stream ${s.name}: last seq ${s.lastSeq}, ${s.messages} messages`);
  for (const c of state.consumers) {
    lines.push(
      `consumer ${c.stream}/${c.name}: ack floor ${c.ackFloor}, delivered ${c.delivered}, pending ${c.pending}, unacknowledged ${c.ackPending}, redelivered ${c.redelivered}`,
    );
  }
  return lines;
}

/** The outcome of a checking script: each invariant, held or violated, printed as it comes. */
export class Invariants {
  readonly results: { name: string; ok: boolean; detail: string }[] = [];

  constructor(private readonly log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  check(name: string, ok: boolean, detail = ''): boolean {
    this.results.push({ name, ok, detail });
    this.log(`  ${ok ? 'OK  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
    return ok;
  }

  /** Equal values: held; the detail shows both. */
  equal(name: string, actual: unknown, expected: unknown): boolean {
    return this.check(name, actual === expected, actual === expected ? String(actual) : `${String(actual)}, expected ${String(expected)}`);
  }

  get violations(): number {
    return this.results.filter((r) => !r.ok).length;
  }
}

/** Against `expected` (recipient address -> how many distinct mails it should get): the
 * mails missing, the distinct mails too many, the copies of one mail (same Message-ID)
 * received more than once, and the mails to nobody expected. */
export function countMails(
  byRecipient: Map<string, string[]>,
  expected: Map<string, number>,
): { recipients: number; missing: number; extra: number; duplicateCopies: number; unexpected: number } {
  let missing = 0;
  let extra = 0;
  let duplicateCopies = 0;
  for (const [address, wanted] of expected) {
    const ids = byRecipient.get(address.toLowerCase()) ?? [];
    const distinct = new Set(ids).size;
    missing += Math.max(0, wanted - distinct);
    extra += Math.max(0, distinct - wanted);
    duplicateCopies += ids.length - distinct;
  }
  const lower = new Set([...expected.keys()].map((a) => a.toLowerCase()));
  let unexpected = 0;
  for (const [address, ids] of byRecipient) if (!lower.has(address)) unexpected += ids.length;
  return { recipients: expected.size, missing, extra, duplicateCopies, unexpected };
}
