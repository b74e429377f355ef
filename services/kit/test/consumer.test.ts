import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readStream, type TestDatabase, type TestNats } from '@assistants/testing';
import {
  createLogger,
  createOutbox,
  deadLetterCount,
  discardDeadLetters,
  listDeadLetters,
  startConsumer,
  withCorrelationId,
  type Bus,
  type Consumer,
  type ConsumerHandler,
  type ConsumerSettings,
  type EventGroupHandler,
  type Database,
  type EventEnvelope,
  type Outbox,
} from '../src';
import { sleep, waitFor, startKitTestBed, type KitTestBed } from './helpers';

// Durable consumers on a real nats-server and PostgreSQL: the kit claims the event in the
// handler's transaction and acknowledges after the commit; failing events come again, then
// go to the dead letters; redelivery never does the work twice.

const logger = createLogger('kit-consumer-test', 'silent');
let nats: TestNats;
let pg: TestDatabase;
let db: Database;
let bus: Bus;
let bed: KitTestBed;
let outbox: Outbox;
const consumers: Consumer[] = [];

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kitcon', stream: { name: 'KITCON', subjects: ['kitcon.>'] }, logger });
  ({ nats, pg, db, bus } = bed);
  await db.query('CREATE TABLE work_done (event_id text NOT NULL, done_by text NOT NULL)');
  outbox = createOutbox({ db, bus, logger });
  outbox.start();
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await outbox?.stop();
  await bed?.close();
});

async function consume(options: Omit<ConsumerSettings, 'bus' | 'outbox' | 'logger' | 'stream'> & ConsumerHandler): Promise<Consumer> {
  const consumer = await startConsumer({ bus, outbox, logger, stream: 'KITCON', ...options });
  consumers.push(consumer);
  return consumer;
}

/** Publishes events (through the outbox, in batches when `batch`) and returns them as stored in the stream. */
async function publish(subject: string, data: unknown[], correlationId = 'corr-test', batch = false): Promise<EventEnvelope[]> {
  await withCorrelationId(correlationId, () =>
    outbox.transaction(async (_tx, emit) => {
      data.forEach((d, i) => emit(subject, d, `key:${i}`, { batch }));
    }),
  );
  await outbox.flush();
  return (await readStream(bus, 'KITCON')).filter((e) => e.subject === subject).slice(-data.length);
}

async function workDone(eventIds: string[]): Promise<{ event_id: string; done_by: string }[]> {
  const { rows } = await db.query<{ event_id: string; done_by: string }>(
    'SELECT event_id, done_by FROM work_done WHERE event_id = ANY($1) ORDER BY event_id, done_by',
    [eventIds],
  );
  return rows;
}

async function settled(durable: string): Promise<boolean> {
  const info = await bus.jsm.consumers.info('KITCON', durable);
  return info.num_ack_pending === 0 && info.num_pending === 0;
}

it('gives an event whose handler failed after its work (and after the claim) again, and commits the work and its events once', async () => {
  const published = await publish('kitcon.retry.requested.v1', [{ n: 1 }, { n: 2 }, { n: 3 }], 'corr-retry');
  const ids = published.map((e) => e.id);
  const calls: { id: string; deliveryCount: number }[] = [];
  await consume({
    durable: 'kitcon-retry',
    subject: 'kitcon.retry.>',
    retryDelay: { initialMs: 100 },
    handler: async (event, { tx, emit, deliveryCount }) => {
      calls.push({ id: event.id, deliveryCount });
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, `delivery ${deliveryCount}`]);
      emit('kitcon.reply.sent.v1', { to: event.id });
      if (deliveryCount === 1) throw new Error('fails after its work');
    },
  });
  await waitFor('the work of 3 events', async () => (await workDone(ids)).length === 3 && (await settled('kitcon-retry')));

  // The claim was rolled back with the work: the second delivery ran the handler.
  expect(calls.map((c) => `${ids.indexOf(c.id)}:${c.deliveryCount}`).sort()).toEqual(['0:1', '0:2', '1:1', '1:2', '2:1', '2:2']);
  expect((await workDone(ids)).map((r) => `${r.event_id} ${r.done_by}`).sort()).toEqual(ids.map((id) => `${id} delivery 2`).sort());
  const inbox = await db.query('SELECT event_id FROM kit_inbox WHERE consumer = $1 ORDER BY event_id', ['kitcon-retry']);
  expect(inbox.rows.map((r) => r.event_id)).toEqual([...ids].sort());

  // The events emitted in the handler's transaction: once per event, from the committed
  // attempt only, with the correlation id of the event handled.
  await outbox.flush();
  const replies = (await readStream(bus, 'KITCON')).filter((e) => e.subject === 'kitcon.reply.sent.v1');
  expect(replies.map((e) => (e.data as { to: string }).to).sort()).toEqual([...ids].sort());
  expect(replies.every((e) => e.correlationId === 'corr-retry')).toBe(true);
});

it('moves an event that keeps failing to the dead letters after exactly maxDeliveries, delivers it no more, and replays it once fixed', async () => {
  const [bad, good, doomed] = await publish('kitcon.dead.requested.v1', [{ bad: true }, { bad: false }, { bad: true }]);
  let fixed = false;
  const calls: { id: string; deliveryCount: number }[] = [];
  const consumer = await consume({
    durable: 'kitcon-dead',
    subject: 'kitcon.dead.>',
    maxDeliveries: 3,
    ackWaitMs: 1000,
    prefetch: 1,
    retryDelay: { initialMs: 100 },
    handler: async (event, { tx, deliveryCount }) => {
      calls.push({ id: event.id, deliveryCount });
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, `delivery ${deliveryCount}`]);
      if ((event.data as { bad: boolean }).bad && !fixed) throw new Error('broken handler');
    },
  });
  await waitFor('two dead letters', async () => (await deadLetterCount(db))['kitcon-dead'] === 2 && (await settled('kitcon-dead')));
  // Longer than the ack wait: a message not terminated would come again.
  await sleep(1500);
  const deliveries = (id: string) => calls.filter((c) => c.id === id).map((c) => c.deliveryCount);
  expect(deliveries(bad.id)).toEqual([1, 2, 3]);
  expect(deliveries(doomed.id)).toEqual([1, 2, 3]);
  expect(deliveries(good.id)).toEqual([1]);
  expect(await settled('kitcon-dead')).toBe(true);
  expect(await workDone([bad.id, good.id, doomed.id])).toEqual([{ event_id: good.id, done_by: 'delivery 1' }]);

  const letters = (await listDeadLetters(db, { consumer: 'kitcon-dead', limit: 10 })).sort((a, b) =>
    a.eventId === bad.id ? -1 : b.eventId === bad.id ? 1 : 0,
  );
  expect(letters.map((l) => l.eventId)).toEqual([bad.id, doomed.id]);
  expect(letters[0]).toMatchObject({
    consumer: 'kitcon-dead',
    stream: 'KITCON',
    subject: 'kitcon.dead.requested.v1',
    error: 'Error: broken handler',
    deliveries: 3,
    envelope: bad,
  });
  expect(letters[0].streamSeq).toBeGreaterThan(0);
  expect(await listDeadLetters(db, { consumer: 'someone-else', limit: 10 })).toEqual([]);

  // Replayed while still broken: stays, with one more delivery.
  expect(await consumer.replay([letters[0].id])).toEqual({
    replayed: [],
    failed: [{ id: letters[0].id, error: 'Error: broken handler' }],
    notFound: [],
  });
  expect((await listDeadLetters(db, { consumer: 'kitcon-dead', limit: 10 })).find((l) => l.id === letters[0].id)?.deliveries).toBe(4);

  // Fixed: the replay applies it once and removes the dead letter; the other one is discarded.
  fixed = true;
  expect(await consumer.replay([letters[0].id, '424242', 'not-an-id'])).toEqual({
    replayed: [letters[0].id],
    failed: [],
    notFound: ['424242', 'not-an-id'],
  });
  expect(deliveries(bad.id)).toEqual([1, 2, 3, 4, 5]);
  expect(await workDone([bad.id])).toEqual([{ event_id: bad.id, done_by: 'delivery 5' }]);
  expect(await consumer.replay([letters[0].id])).toEqual({ replayed: [], failed: [], notFound: [letters[0].id] });
  expect(await discardDeadLetters(db, [letters[1].id, 'not-an-id'])).toBe(1);
  expect(await deadLetterCount(db)).toEqual({});
  expect(await workDone([doomed.id])).toEqual([]);
});

it('does not deliver again a message waiting in the buffer behind slow handlers (prefetch × handler budget < ack wait)', async () => {
  const published = await publish(
    'kitcon.slow.requested.v1',
    Array.from({ length: 8 }, (_, n) => ({ n })),
  );
  const calls: { id: string; deliveryCount: number }[] = [];
  const consumer = await consume({
    durable: 'kitcon-slow',
    subject: 'kitcon.slow.>',
    ackWaitMs: 2500,
    prefetch: 4,
    handler: async (event, { tx, deliveryCount }) => {
      calls.push({ id: event.id, deliveryCount });
      await sleep(400); // within the budget of 2500 / (4 + 1) = 500 ms
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, 'slow']);
    },
  });
  expect(consumer.handlerBudgetMs).toBe(500);
  await waitFor('8 slow events', async () => (await workDone(published.map((e) => e.id))).length === 8 && (await settled('kitcon-slow')));
  // 8 × 400 ms = 3.2 s in all, longer than the ack wait: with all 8 in the buffer at once,
  // the last ones would have been delivered again.
  expect(calls.map((c) => c.deliveryCount)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  expect(calls.map((c) => c.id)).toEqual(published.map((e) => e.id));
  const info = await bus.jsm.consumers.info('KITCON', 'kitcon-slow');
  expect(info.delivered.consumer_seq).toBe(8); // 8 deliveries: none again
  expect(info.config.max_ack_pending).toBeGreaterThanOrEqual(4);
});

it('fetches few of its messages at a time when they are big: about 2 MiB held, not prefetch × 256 KiB', async () => {
  // 60 batch messages of about 210 KiB (100 events of 2,000 characters each).
  const data = Array.from({ length: 6000 }, (_, n) => ({ n, text: 'x'.repeat(2000) }));
  const published = await publish('kitcon.big.requested.v1', data, 'corr-big', true);
  const ids = published.map((e) => e.id);
  // What the server had delivered and not seen acknowledged, as each group (one message:
  // over half of GROUP_MAX_BYTES) began.
  const held: number[] = [];
  await consume({
    durable: 'kitcon-big',
    subject: 'kitcon.big.>',
    prefetch: 30,
    groupHandler: async (events, { tx }) => {
      held.push((await bus.jsm.consumers.info('KITCON', 'kitcon-big')).num_ack_pending);
      await tx.query(`INSERT INTO work_done (event_id, done_by) SELECT unnest($1::text[]), 'big'`, [events.map((e) => e.event.id)]);
    },
  });
  await waitFor('6,000 big events', async () => (await workDone(ids)).length === 6000 && (await settled('kitcon-big')));

  expect(held).toHaveLength(60);
  // The first fetch, knowing nothing of their size, 8; then 2 MiB / 210 KiB = 9 a fetch.
  expect(held[0]).toBe(8);
  expect(Math.max(...held)).toBeLessThanOrEqual(9);
});

it('stops a handler that runs past its budget and rolls its work back', async () => {
  const published = await publish('kitcon.runaway.requested.v1', [{ kind: 'sql' }, { kind: 'wait' }]);
  const consumer = await consume({
    durable: 'kitcon-runaway',
    subject: 'kitcon.runaway.>',
    ackWaitMs: 1000,
    prefetch: 1,
    maxDeliveries: 1,
    handler: async (event, { tx }) => {
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, 'runaway']);
      if ((event.data as { kind: string }).kind === 'sql') await tx.query('SELECT pg_sleep(10)');
      else {
        await sleep(3000);
        await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, 'too late']);
      }
    },
  });
  expect(consumer.handlerBudgetMs).toBe(500);
  const started = Date.now();
  await waitFor('two dead letters', async () => (await deadLetterCount(db))['kitcon-runaway'] === 2);
  expect(Date.now() - started).toBeLessThan(2500);
  const letters = await listDeadLetters(db, { consumer: 'kitcon-runaway', limit: 10 });
  expect(letters.map((l) => l.eventId)).toEqual(published.map((e) => e.id)); // prefetch 1: one after the other
  expect(letters[0].error).toMatch(/statement timeout|within its budget of 500 ms/);
  expect(letters[1].error).toMatch(/within its budget of 500 ms/);
  await sleep(3000); // the waiting handler wakes up: its late statement is refused
  expect(await workDone(published.map((e) => e.id))).toEqual([]);
  expect(await db.query('SELECT count(*)::int AS n FROM kit_inbox WHERE consumer = $1', ['kitcon-runaway'])).toMatchObject({
    rows: [{ n: 0 }],
  });
});

it('moves a message that is not an event envelope to the dead letters at once', async () => {
  const ack = await bus.js.publish('kitcon.raw.sent.v1', 'not json');
  const calls: string[] = [];
  const consumer = await consume({
    durable: 'kitcon-raw',
    subject: 'kitcon.raw.>',
    ackWaitMs: 1000,
    handler: async (event) => void calls.push(event.id),
  });
  await waitFor('a dead letter', async () => (await deadLetterCount(db))['kitcon-raw'] === 1 && (await settled('kitcon-raw')));
  const [letter] = await listDeadLetters(db, { consumer: 'kitcon-raw', limit: 10 });
  expect(letter).toMatchObject({
    eventId: `KITCON:${ack.seq}`,
    streamSeq: ack.seq,
    envelope: 'not json',
    error: 'not a JSON event envelope',
    deliveries: 1,
  });
  expect(calls).toEqual([]);
  expect(await consumer.replay([letter.id])).toEqual({
    replayed: [],
    failed: [{ id: letter.id, error: 'Error: not a JSON event envelope' }],
    notFound: [],
  });
  expect(await discardDeadLetters(db, [letter.id])).toBe(1);
  await bus.jsm.streams.deleteMessage('KITCON', ack.seq); // readStream takes envelopes only
});

it('prunes its inbox rows older than the retention, in bounded statements, and no other consumer’s', async () => {
  await db.query(
    `INSERT INTO kit_inbox (consumer, event_id, processed_at)
     SELECT 'kitcon-prune', 'old-' || i, now() - interval '8 days' FROM generate_series(1, 2500) AS i`,
  );
  await db.query(`INSERT INTO kit_inbox (consumer, event_id, processed_at) VALUES
    ('kitcon-prune', 'recent', now() - interval '6 days'), ('kitcon-other', 'old-other', now() - interval '8 days')`);
  const consumer = await consume({ durable: 'kitcon-prune', subject: 'kitcon.prune.>', handler: async () => {} });
  const left = async () =>
    (
      await db.query<{ consumer: string; event_id: string }>(
        `SELECT consumer, event_id FROM kit_inbox WHERE consumer IN ('kitcon-prune', 'kitcon-other') ORDER BY 1, 2`,
      )
    ).rows;
  await waitFor('the pruning at start', async () => (await left()).length === 2);
  expect(await left()).toEqual([
    { consumer: 'kitcon-other', event_id: 'old-other' },
    { consumer: 'kitcon-prune', event_id: 'recent' },
  ]);
  expect(await consumer.pruneInbox()).toBe(0);
});

it('gets every unacknowledged event again after its process died between commit and ack, and does the work once', async () => {
  const published = await publish('kitcon.work.requested.v1', [{ n: 1 }, { n: 2 }, { n: 3 }]);
  const ids = published.map((e) => e.id);

  // First process: applies the first event, commits, dies before acknowledging.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'consumer-process.ts')], {
    env: { ...process.env, DATABASE_URL: pg.url, NATS_URL: nats.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const appliedId = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const match = /applied (\S+)/.exec(String(d));
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`consumer process exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  expect(appliedId).toBe(ids[0]);

  // Second process (here): same durable consumer. The first event is claimed already: it is
  // acknowledged without calling the handler.
  const calls: { id: string; deliveryCount: number }[] = [];
  await consume({
    durable: 'kitcon-work',
    subject: 'kitcon.work.>',
    ackWaitMs: 2000,
    prefetch: 3,
    handler: async (event, { tx, deliveryCount }) => {
      calls.push({ id: event.id, deliveryCount });
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, 'second process']);
    },
  });
  await waitFor('every event acknowledged', async () => (await workDone(ids)).length === 3 && (await settled('kitcon-work')));

  expect(calls.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id))).toEqual([
    { id: ids[1], deliveryCount: 2 },
    { id: ids[2], deliveryCount: 2 },
  ]);
  const done = await workDone(ids);
  expect(done).toHaveLength(3);
  expect(done.find((r) => r.event_id === appliedId)?.done_by).toBe('first process');
  expect(
    done
      .filter((r) => r.done_by === 'second process')
      .map((r) => r.event_id)
      .sort(),
  ).toEqual([ids[1], ids[2]].sort());
});

it('group handler: gets every event of a group again after its process died between the group commit and the acks, and does the work once', async () => {
  const published = await publish(
    'kitcon.group-kill.requested.v1',
    Array.from({ length: 40 }, (_, n) => ({ n })),
  );
  const ids = published.map((e) => e.id);

  // First process: commits one group of events, dies before acknowledging any of them.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'consumer-process.ts')], {
    env: { ...process.env, DATABASE_URL: pg.url, NATS_URL: nats.url, GROUP: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const applied = await new Promise<string[]>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const match = /applied (\S+)/.exec(String(d));
      if (match) resolve(match[1].split(','));
    });
    child.once('exit', (code) => reject(new Error(`consumer process exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  expect(applied.length).toBeGreaterThan(1);

  // Second replica (here), same durable: the committed group's events are claimed already
  // and acknowledged without reaching the handler; the others are applied once.
  const handled: string[] = [];
  await consume({
    durable: 'kitcon-group-kill',
    subject: 'kitcon.group-kill.>',
    ackWaitMs: 4000,
    prefetch: 20,
    groupHandler: async (events, { tx }) => {
      handled.push(...events.map((e) => e.event.id));
      await tx.query(`INSERT INTO work_done (event_id, done_by) SELECT unnest($1::text[]), 'second process'`, [
        events.map((e) => e.event.id),
      ]);
    },
  });
  await waitFor('every event acknowledged', async () => (await workDone(ids)).length === 40 && (await settled('kitcon-group-kill')));

  const done = await workDone(ids);
  expect(new Set(done.map((r) => r.event_id)).size).toBe(40);
  expect(
    done
      .filter((r) => r.done_by === 'first process')
      .map((r) => r.event_id)
      .sort(),
  ).toEqual([...applied].sort());
  expect(handled.sort()).toEqual(ids.filter((id) => !applied.includes(id)).sort());
});

it.each([
  ['one event a message', false],
  ['batches of 100 events a message', true],
])(
  'group handler (%s): two replicas apply 400 events in shared transactions, each once with its own correlation id, and a failing event alone reaches the dead letters',
  async (_, batch) => {
    const data = Array.from({ length: 400 }, (_, n) => ({ n, bad: n === 137 }));
    const subject = `kitcon.group${batch ? '-batch' : ''}.requested.v1`;
    const durable = `kitcon-group${batch ? '-batch' : ''}`;
    const seqBefore = (await bus.jsm.streams.info('KITCON')).state.last_seq;
    // Two publications: two correlation ids among the events of the groups.
    const published = [
      ...(await publish(subject, data.slice(0, 200), 'corr-group-a', batch)),
      ...(await publish(subject, data.slice(200), 'corr-group-b', batch)),
    ];
    // The stream holds a message an event, or four batches.
    expect((await bus.jsm.streams.info('KITCON')).state.last_seq - seqBefore).toBe(batch ? 4 : 400);
    expect(published.map((e) => (e.data as { n: number }).n)).toEqual(data.map((d) => d.n));
    const ids = published.map((e) => e.id);
    const bad = published.find((e) => (e.data as { bad: boolean }).bad)!;
    const groupHandler: EventGroupHandler = async (events, { tx, emit }) => {
      const { rows } = await tx.query<{ txid: string }>('SELECT txid_current()::text AS txid');
      await tx.query('INSERT INTO work_done (event_id, done_by) SELECT unnest($1::text[]), $2', [
        events.map((e) => e.event.id),
        rows[0].txid,
      ]);
      for (const { event } of events) withCorrelationId(event.correlationId, () => emit('kitcon.group-reply.sent.v1', { to: event.id }));
      if (events.some((e) => (e.event.data as { bad: boolean }).bad)) throw new Error('this one is broken');
    };
    const options = {
      durable,
      subject,
      prefetch: 32,
      maxDeliveries: 2,
      retryDelay: { initialMs: 50 },
      groupHandler,
    };
    await Promise.all([consume(options), consume(options)]);
    await waitFor(
      '399 events applied and one dead letter',
      async () => (await workDone(ids)).length === 399 && (await deadLetterCount(db))[durable] === 1 && (await settled(durable)),
    );

    const done = await workDone(ids);
    expect(new Set(done.map((r) => r.event_id)).size).toBe(399);
    expect(done.some((r) => r.event_id === bad.id)).toBe(false);
    // Groups, not one transaction per event.
    expect(new Set(done.map((r) => r.done_by)).size).toBeLessThan(200);
    const letters = await listDeadLetters(db, { consumer: durable, limit: 10 });
    expect(letters.map((l) => [l.eventId, l.error, l.deliveries])).toEqual([[bad.id, 'Error: this one is broken', 2]]);

    await outbox.flush();
    const replies = (await readStream(bus, 'KITCON')).filter(
      (e) => e.subject === 'kitcon.group-reply.sent.v1' && ids.includes((e.data as { to: string }).to),
    );
    expect(replies).toHaveLength(399);
    const sourceOf = new Map(published.map((e) => [e.id, e]));
    for (const reply of replies) expect(reply.correlationId).toBe(sourceOf.get((reply.data as { to: string }).to)!.correlationId);
    expect(new Set(replies.map((r) => r.correlationId))).toEqual(new Set(['corr-group-a', 'corr-group-b']));
    await discardDeadLetters(
      db,
      letters.map((l) => l.id),
    );
  },
);

it('handler: the events of a batch message are applied once each in its order, and a failing one alone comes again, then reaches the dead letters', async () => {
  const data = Array.from({ length: 150 }, (_, n) => ({ n, bad: n === 42 }));
  const seqBefore = (await bus.jsm.streams.info('KITCON')).state.last_seq;
  const published = await publish('kitcon.batch.requested.v1', data, 'corr-batch', true);
  expect((await bus.jsm.streams.info('KITCON')).state.last_seq - seqBefore).toBe(2);
  const ids = published.map((e) => e.id);
  const bad = published[42];
  const calls: { n: number; deliveryCount: number }[] = [];
  await consume({
    durable: 'kitcon-batch',
    subject: 'kitcon.batch.>',
    maxDeliveries: 3,
    retryDelay: { initialMs: 50 },
    handler: async (event, { tx, deliveryCount }) => {
      const { n, bad: broken } = event.data as { n: number; bad: boolean };
      calls.push({ n, deliveryCount });
      await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, `delivery ${deliveryCount}`]);
      if (broken) throw new Error('this one is broken');
    },
  });
  await waitFor(
    '149 events applied and one dead letter',
    async () =>
      (await workDone(ids)).length === 149 && (await deadLetterCount(db))['kitcon-batch'] === 1 && (await settled('kitcon-batch')),
  );

  const done = await workDone(ids);
  expect(new Set(done.map((r) => r.event_id)).size).toBe(149);
  expect(done.some((r) => r.event_id === bad.id)).toBe(false);
  // The second message went at once; the first came back for its broken event only.
  expect(done.filter((r) => r.done_by !== 'delivery 1')).toEqual([]);
  // Each delivery tries the events not claimed yet together, then one by one: 42 twice, twice.
  expect(calls.filter((c) => c.deliveryCount > 1).map((c) => `${c.n}:${c.deliveryCount}`)).toEqual(['42:2', '42:2', '42:3', '42:3']);
  // In the stream's order within a message.
  expect(calls.filter((c) => c.deliveryCount === 1 && c.n >= 100).map((c) => c.n)).toEqual(data.slice(100).map((d) => d.n));
  const letters = await listDeadLetters(db, { consumer: 'kitcon-batch', limit: 10 });
  expect(letters.map((l) => [l.eventId, l.error, l.deliveries])).toEqual([[bad.id, 'Error: this one is broken', 3]]);
  await discardDeadLetters(
    db,
    letters.map((l) => l.id),
  );
});
