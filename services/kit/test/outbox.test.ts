import { readStream, type TestDatabase, type TestNats } from '@assistants/testing';
import {
  connectBus,
  createLogger,
  createOutbox,
  ensureStream,
  envelope,
  eventsOf,
  listUnpublishable,
  openDatabase,
  outboxStatus,
  retryUnpublishable,
  type Bus,
  type Database,
  type EventEnvelope,
} from '../src';
import { capturingLogger, startKitTestBed, type KitTestBed } from './helpers';

// The relay on the real PostgreSQL server and a real nats-server: every committed event
// exactly once, in commit order per key, with several writers and replicas at once.

const logger = createLogger('kit-outbox-test', 'silent');
let nats: TestNats;
let pg: TestDatabase;
let db: Database;
let bus: Bus;
let bed: KitTestBed;

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kitoutbox', stream: { name: 'KITOUT', subjects: ['kitout.>'] }, logger, poolSize: 25 });
  ({ nats, pg, db, bus } = bed);
});

afterAll(async () => {
  await bed?.close();
});

async function streamEvents(subjectPrefix: string, stream = 'KITOUT'): Promise<EventEnvelope<any>[]> {
  return (await readStream(bus, stream)).filter((e) => e.subject.startsWith(subjectPrefix));
}

it('publishes every committed event exactly once, in commit order per key, with 20 writers and two relays at once (half of them in batches)', async () => {
  await db.query('CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)');
  // Two replicas: each its own pool and NATS connection, both relays started.
  const db2 = await openDatabase({ url: pg.url, schema: 'kitoutbox', dataDir: '', logger, poolSize: 25 });
  const bus2 = await connectBus(nats.url, 'kit-outbox-test-2', logger);
  const replicas = [createOutbox({ db, bus, logger }), createOutbox({ db: db2, bus: bus2, logger })];
  replicas.forEach((r) => r.start());
  const expected: string[] = [];
  let counterCommits = 0;
  try {
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        const outbox = replicas[w % 2];
        for (let n = 1; n <= 50; n++) {
          const rollback = n % 7 === 0;
          const count = 1 + ((w + n) % 3);
          const bumps = n % 3 === 0;
          try {
            await outbox.transaction(async (tx, emit) => {
              // The odd writers' events go in batches (a message for a transaction's events).
              for (let i = 0; i < count; i++) emit('kitout.writer.wrote.v1', { w, n, i, rollback }, `writer:${w}`, { batch: w % 2 === 1 });
              if (bumps) {
                // One row every writer changes: its lock orders these transactions, and the
                // events keyed "counter" must reach the stream in that order.
                const { rows } = await tx.query<{ n: number }>('UPDATE counter SET n = n + 1 RETURNING n');
                emit('kitout.counter.bumped.v1', { n: rows[0].n, rollback }, 'counter');
              }
              if (rollback) throw new Error('rolled back on purpose');
            });
          } catch (err) {
            if (!rollback) throw err;
            continue;
          }
          for (let i = 0; i < count; i++) expected.push(`${w}/${n}/${i}`);
          if (bumps) counterCommits++;
        }
      }),
    );
    await replicas[0].flush();
    await replicas[1].flush();
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await bus2.close();
    await db2.close();
  }

  const events = await streamEvents('kitout.');
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  expect(events.filter((e) => e.data.rollback)).toEqual([]);

  const wrote = events.filter((e) => e.subject === 'kitout.writer.wrote.v1');
  const seen = wrote.map((e) => `${e.data.w}/${e.data.n}/${e.data.i}`);
  expect(seen.length).toBe(expected.length);
  expect([...seen].sort()).toEqual([...expected].sort());
  for (let w = 0; w < 20; w++) {
    const mine = wrote.filter((e) => e.data.w === w).map((e) => e.data.n * 10 + e.data.i);
    expect(mine).toEqual([...mine].sort((a, b) => a - b));
  }
  const counter = events.filter((e) => e.subject === 'kitout.counter.bumped.v1').map((e) => e.data.n);
  expect(counterCommits).toBeGreaterThan(200);
  expect(counter).toEqual(Array.from({ length: counterCommits }, (_, i) => i + 1));
  expect(await outboxStatus(db)).toMatchObject({ pending: 0, unpublishable: 0 });
});

it('packs the runs of one subject emitted with batch into messages of at most 100 events and 256 KiB, in their order', async () => {
  const outbox = createOutbox({ db, bus, logger });
  const seqBefore = (await bus.jsm.streams.info('KITOUT')).state.last_seq;
  const emitted: string[] = [];
  await outbox.transaction(async (_tx, emit) => {
    const send = (subject: string, n: number, batch: boolean, text = '') => {
      emit(`kitout.pack.${subject}.v1`, { n, text }, `pack:${n % 7}`, { batch });
      emitted.push(`${subject}/${n}`);
    };
    for (let n = 0; n < 3; n++) send('a', n, true); // one message
    send('a', 3, false); // alone
    for (let n = 4; n < 209; n++) send('a', n, true); // 100, 100, 5
    for (let n = 209; n < 211; n++) send('b', n, true); // another subject: its own message
    for (let n = 211; n < 231; n++) send('c', n, true, 'x'.repeat(30_000)); // 256 KiB: 8, 8 and 4
    expect(() => emit('kitout.pack.a.v1', {}, 'two\nlines', { batch: true })).toThrow(/no line break/);
  });
  await outbox.flush();
  await outbox.stop();
  const info = await bus.jsm.streams.info('KITOUT');
  const sizes: number[] = [];
  for (let seq = seqBefore + 1; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage('KITOUT', { seq });
    const body = m!.json<unknown>();
    sizes.push(Array.isArray(body) ? body.length : 1);
    // A batch's message id is its first event's id.
    expect(m!.header.get('Nats-Msg-Id')).toBe(eventsOf(body)[0].id);
  }
  expect(sizes).toEqual([3, 1, 100, 100, 5, 2, 8, 8, 4]);
  const events = await streamEvents('kitout.pack.');
  expect(events.map((e) => `${e.subject.split('.')[2]}/${e.data.n}`)).toEqual(emitted);
  expect(await outboxStatus(db)).toMatchObject({ pending: 0, unpublishable: 0 });
});

it('publishes an event whose lower seq commits while the relay publishes a later one (the old range delete lost it)', async () => {
  // The relay's publications wait at a gate the test opens.
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const publishing: string[] = [];
  // (The relay sends each event with a reply subject and waits for JetStream's answers.)
  const gatedNc = new Proxy(bus.nc, {
    get(target, prop) {
      if (prop === 'publish') {
        return (subject: string, payload: string, options: object) => {
          publishing.push(subject);
          void gate.then(() => target.publish(subject, payload, options));
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const outbox = createOutbox({ db, bus: { ...bus, nc: gatedNc }, logger });

  // A transaction takes a seq and stays open (as if its commit was slow).
  const early = envelope('kitout.race.early.v1', {});
  let commitEarly!: () => void;
  const earlyCommitted = db.transaction(async (tx) => {
    await tx.query(`INSERT INTO kit_outbox (subject, key, envelope) VALUES ($1, 'race:early', $2)`, [early.subject, JSON.stringify(early)]);
    await new Promise<void>((resolve) => (commitEarly = resolve));
  });
  await new Promise((r) => setTimeout(r, 100));
  // A later one commits; the relay reads it and starts publishing it.
  await outbox.transaction(async (_tx, emit) => emit('kitout.race.late.v1', {}, 'race:late'));
  const flushed = outbox.flush();
  while (publishing.length === 0) await new Promise((r) => setTimeout(r, 10));
  // The early one commits while the later one is being published.
  commitEarly();
  await earlyCommitted;
  openGate();
  await flushed;
  await outbox.stop();

  expect(publishing).toEqual(['kitout.race.late.v1', 'kitout.race.early.v1']);
  const events = await streamEvents('kitout.race');
  expect(events.map((e) => e.subject)).toEqual(['kitout.race.late.v1', 'kitout.race.early.v1']);
  expect(events[1].id).toBe(early.id);
  expect(await outboxStatus(db)).toMatchObject({ pending: 0 });
});

it('publishes each envelope as it was emitted, its id as the message id, and an event stored by the version before', async () => {
  const outbox = createOutbox({ db, bus, logger });
  // Control characters (U+001E separates the envelopes of one insert), quotes, NUL (not valid
  // in jsonb), a character outside the BMP.
  const text = 'a\x1eb\u0000c\nd"e\\f\x1f 😀';
  await outbox.transaction(async (_tx, emit) => {
    emit('kitout.fidelity.first.v1', { text }, 'fidelity');
    emit('kitout.fidelity.second.v1', { text: text + text, n: 2 }, 'fidelity');
  });
  // The version before stored envelopes without their id column.
  const before = envelope('kitout.fidelity.before.v1', { text });
  await db.query(`INSERT INTO kit_outbox (subject, key, envelope) VALUES ($1, 'fidelity', $2::jsonb)`, [
    before.subject,
    JSON.stringify({ ...before, data: { text: 'no NUL in jsonb' } }),
  ]);
  await outbox.flush();
  await outbox.stop();

  const info = await bus.jsm.streams.info('KITOUT');
  const messages = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage('KITOUT', { seq });
    if (m?.subject.startsWith('kitout.fidelity.')) messages.push(m);
  }
  const published = messages.map((m) => ({ msgId: m.header.get('Nats-Msg-Id'), event: m.json<EventEnvelope<any>>() }));
  expect(published.map((p) => p.event.subject)).toEqual([
    'kitout.fidelity.first.v1',
    'kitout.fidelity.second.v1',
    'kitout.fidelity.before.v1',
  ]);
  expect(published.map((p) => p.event.data)).toEqual([{ text }, { text: text + text, n: 2 }, { text: 'no NUL in jsonb' }]);
  for (const p of published) expect(p.msgId).toBe(p.event.id);
  expect(published[2].event.id).toBe(before.id);
  expect(await outboxStatus(db)).toMatchObject({ pending: 0 });
});

it('moves an event that can never be published aside, publishes those behind it, and puts it back on request', async () => {
  const { logger: relayLogger, lines } = capturingLogger('relay');
  const outbox = createOutbox({ db, bus, logger: relayLogger });
  const huge = 'x'.repeat(1024 * 1024 + 10); // nats-server's max_payload is 1 MiB
  await outbox.transaction(async (_tx, emit) => {
    emit('kitout.poison.huge.v1', { huge }, 'poison:1');
    emit('kitout.poison.after-huge.v1', { n: 1 }, 'poison:1');
    emit('kitnowhere.thing.happened.v1', { n: 2 }, 'poison:2');
    emit('kitout.poison.after-nowhere.v1', { n: 3 }, 'poison:2');
  });
  await outbox.flush();

  // The events behind them, of the same keys, are published.
  expect((await streamEvents('kitout.poison')).map((e) => e.subject)).toEqual([
    'kitout.poison.after-huge.v1',
    'kitout.poison.after-nowhere.v1',
  ]);
  expect(await outboxStatus(db)).toEqual({ pending: 0, oldestPendingSeconds: 0, unpublishable: 2 });
  const aside = await listUnpublishable(db, { limit: 10 });
  expect(aside.map((u) => [u.subject, u.key])).toEqual([
    ['kitout.poison.huge.v1', 'poison:1'],
    ['kitnowhere.thing.happened.v1', 'poison:2'],
  ]);
  expect(aside[0].reason).toMatch(/payload of \d+ bytes is larger than the server's max_payload \(1048576 bytes\)/);
  expect(aside[1].reason).toBe('no stream owns subject kitnowhere.thing.happened.v1');
  expect((aside[1].envelope as EventEnvelope).data).toEqual({ n: 2 });
  // One error line each, naming the subject, the event and the reason.
  const errors = lines().filter((l) => l.level === 50);
  expect(errors.map((l) => [l.subject, l.eventId, l.reason])).toEqual(aside.map((u) => [u.subject, u.eventId, u.reason]));

  // Fixed: a stream now owns the subject. Both go back; the huge one comes aside again.
  await ensureStream(bus, { name: 'KITNOWHERE', subjects: ['kitnowhere.>'] });
  expect(
    await retryUnpublishable(
      db,
      aside.map((u) => u.seq),
    ),
  ).toBe(2);
  expect(await outboxStatus(db)).toMatchObject({ pending: 2, unpublishable: 0 });
  await outbox.flush();
  const nowhere = await streamEvents('kitnowhere', 'KITNOWHERE');
  expect(nowhere.map((e) => e.id)).toEqual([aside[1].eventId]);
  expect((await listUnpublishable(db, { limit: 10 })).map((u) => u.eventId)).toEqual([aside[0].eventId]);
  expect(await outboxStatus(db)).toMatchObject({ pending: 0, unpublishable: 1 });
  expect(await retryUnpublishable(db, ['999999', 'not-a-seq'])).toBe(0);
  await outbox.stop();
});

it('lets one replica publish at a time; another takes over when it stops', async () => {
  const first = createOutbox({ db, bus, logger });
  const second = createOutbox({ db, bus, logger });
  first.start();
  await first.transaction(async (_tx, emit) => emit('kitout.lease.first.v1', {}));
  await first.flush();
  const holder = async () => (await db.query<{ holder: string | null }>('SELECT holder FROM kit_outbox_relay')).rows[0].holder;
  const firstHolder = await holder();
  expect(firstHolder).not.toBeNull();

  // The second replica cannot take the lease while the first holds it: its flush waits for
  // the first one's relay (polling every second) to publish.
  second.start();
  await second.transaction(async (_tx, emit) => emit('kitout.lease.second.v1', {}));
  await second.flush({ timeoutMs: 5000 });
  expect(await holder()).toBe(firstHolder);

  // The first stops and gives the lease up; the second takes it at once.
  await first.stop();
  await second.transaction(async (_tx, emit) => emit('kitout.lease.third.v1', {}));
  await second.flush({ timeoutMs: 5000 });
  expect(await holder()).not.toBe(firstHolder);
  await second.stop();
  expect((await streamEvents('kitout.lease')).map((e) => e.subject)).toEqual([
    'kitout.lease.first.v1',
    'kitout.lease.second.v1',
    'kitout.lease.third.v1',
  ]);
});
