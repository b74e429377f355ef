import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, readStream, startNats, type TestDatabase, type TestNats } from '@assistants/testing';
import {
  claimEvent,
  connectBus,
  createLogger,
  createOutbox,
  ensureStream,
  KIT_MIGRATIONS,
  migrate,
  openDatabase,
  startConsumer,
  type Bus,
  type Database,
  type EventEnvelope,
} from '../src';

const logger = createLogger('kit-test', 'silent');
let nats: TestNats;
let pg: TestDatabase;
let db: Database;
let bus: Bus;

beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), createTestDatabase('kit')]);
  db = await openDatabase({ url: pg.url, schema: 'kittest', dataDir: '', logger });
  await migrate(db, [KIT_MIGRATIONS], logger);
  await db.query('CREATE TABLE work_done (event_id text NOT NULL, done_by text NOT NULL)');
  bus = await connectBus(nats.url, 'kit-test', logger);
  await ensureStream(bus, 'KITTEST', ['kittest.>']);
});

afterAll(async () => {
  await bus?.close();
  await db?.close();
  await Promise.all([nats?.stop(), pg?.drop()]);
});

async function streamEvents(subjectPrefix: string): Promise<EventEnvelope[]> {
  return (await readStream(bus, 'KITTEST')).filter((e) => e.subject.startsWith(subjectPrefix));
}

describe('migrations', () => {
  it('are applied once, in the service schema', async () => {
    await migrate(db, [KIT_MIGRATIONS], logger);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM schema_migrations');
    expect(rows.map((r) => r.id)).toEqual(['kit/001_outbox_inbox.sql']);
    const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'kittest' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['kit_inbox', 'kit_outbox', 'schema_migrations', 'work_done']);
  });
});

describe('outbox', () => {
  it('publishes the events of a committed transaction, in order, with the correlation id', async () => {
    const outbox = createOutbox({ db, bus, logger });
    await outbox.transaction(async (tx, emit) => {
      await tx.query(`INSERT INTO work_done VALUES ('outbox-1', 'test')`);
      emit('kittest.outbox.first.v1', { n: 1 });
      emit('kittest.outbox.second.v1', { n: 2 });
    });
    await outbox.flush();
    const events = await streamEvents('kittest.outbox');
    expect(events.map((e) => [e.subject, e.data])).toEqual([
      ['kittest.outbox.first.v1', { n: 1 }],
      ['kittest.outbox.second.v1', { n: 2 }],
    ]);
    expect(events[0].id).not.toEqual(events[1].id);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const outbox = createOutbox({ db, bus, logger });
    await expect(
      outbox.transaction(async (_tx, emit) => {
        emit('kittest.rollback.happened.v1', {});
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await outbox.flush();
    expect(await streamEvents('kittest.rollback')).toEqual([]);
  });

  it('stores an event once when the relay publishes it twice (msgID de-duplication)', async () => {
    const before = (await bus.jsm.streams.info('KITTEST')).state.messages;
    const event = { id: 'dup-1', subject: 'kittest.dup.sent.v1', time: new Date().toISOString(), correlationId: '', data: {} };
    await bus.js.publish(event.subject, JSON.stringify(event), { msgID: event.id });
    const second = await bus.js.publish(event.subject, JSON.stringify(event), { msgID: event.id });
    expect(second.duplicate).toBe(true);
    expect((await bus.jsm.streams.info('KITTEST')).state.messages).toBe(before + 1);
  });
});

describe('durable consumer', () => {
  it('gets every unacknowledged event again after its process dies, and does the work once', async () => {
    const outbox = createOutbox({ db, bus, logger });
    await outbox.transaction(async (_tx, emit) => {
      for (let n = 1; n <= 3; n++) emit(`kittest.work.requested.v1`, { n });
    });
    await outbox.flush();
    const published = await streamEvents('kittest.work');
    expect(published).toHaveLength(3);

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
    expect(appliedId).toBe(published[0].id);

    // Second process (here): same durable consumer, same handler.
    const deliveries: { id: string; deliveryCount: number; applied: boolean }[] = [];
    const consumer = await startConsumer({
      bus,
      logger,
      stream: 'KITTEST',
      durable: 'kittest-work',
      subject: 'kittest.work.>',
      ackWaitMs: 1000,
      handler: async (event, delivery) => {
        const applied = await db.transaction(async (tx) => {
          if (!(await claimEvent(tx, 'kittest-work', event.id))) return false;
          await tx.query('INSERT INTO work_done (event_id, done_by) VALUES ($1, $2)', [event.id, 'second process']);
          return true;
        });
        deliveries.push({ id: event.id, deliveryCount: delivery.deliveryCount, applied });
      },
    });
    const deadline = Date.now() + 15_000;
    while (deliveries.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.stop();

    const workEvents = published.map((e) => e.id);
    expect(deliveries.map((d) => d.id).sort()).toEqual([...workEvents].sort());
    expect(deliveries.every((d) => d.deliveryCount === 2)).toBe(true);
    expect(deliveries.find((d) => d.id === appliedId)).toMatchObject({ applied: false });
    const { rows } = await db.query<{ event_id: string; done_by: string }>(
      'SELECT event_id, done_by FROM work_done WHERE event_id = ANY($1) ORDER BY event_id',
      [workEvents],
    );
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.event_id === appliedId)?.done_by).toBe('first process');

    // Everything is acknowledged now: nothing is pending on the consumer.
    const info = await bus.jsm.consumers.info('KITTEST', 'kittest-work');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });
});
