import { readStream } from '@assistants/testing';
import {
  createLogger,
  createOutbox,
  ensureStream,
  KIT_MIGRATIONS,
  migrate,
  type Bus,
  type Database,
  type EventEnvelope,
  type Outbox,
} from '../src';
import { startKitTestBed, type KitTestBed } from './helpers';

const logger = createLogger('kit-test', 'silent');
let db: Database;
let bus: Bus;
let bed: KitTestBed;
let outbox: Outbox;

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kittest', stream: { name: 'KITTEST', subjects: ['kittest.>'] }, logger });
  ({ db, bus } = bed);
  await db.query('CREATE TABLE work_done (event_id text NOT NULL, done_by text NOT NULL)');
  outbox = createOutbox({ db, bus, logger });
});

afterAll(async () => {
  await outbox?.stop();
  await bed?.close();
});

async function streamEvents(subjectPrefix: string): Promise<EventEnvelope[]> {
  return (await readStream(bus, 'KITTEST')).filter((e) => e.subject.startsWith(subjectPrefix));
}

describe('migrations', () => {
  it('are applied once, in the service schema', async () => {
    await migrate(db, [KIT_MIGRATIONS], logger);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([
      'kit/001_outbox_inbox.sql',
      'kit/002_outbox_relay.sql',
      'kit/003_consumer_dead_letters.sql',
      'kit/004_batches.sql',
      'kit/005_outbox_json.sql',
      'kit/006_outbox_uncompressed.sql',
    ]);
    const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'kittest' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'kit_batches',
      'kit_dead_letters',
      'kit_inbox',
      'kit_outbox',
      'kit_outbox_relay',
      'kit_outbox_unpublishable',
      'schema_migrations',
      'work_done',
    ]);
  });
});

describe('outbox', () => {
  it('publishes the events of a committed transaction, in order, with the correlation id and the ordering key', async () => {
    await outbox.transaction(async (tx, emit) => {
      await tx.query(`INSERT INTO work_done VALUES ('outbox-1', 'test')`);
      emit('kittest.outbox.first.v1', { n: 1 });
      emit('kittest.outbox.second.v1', { n: 2 }, 'thing:42');
      expect((await tx.query('SELECT key FROM kit_outbox')).rows).toEqual([]); // stored at the end of the transaction
    });
    const stored = await db.query<{ key: string; subject: string }>('SELECT key, subject FROM kit_outbox ORDER BY seq');
    expect(stored.rows).toEqual([
      { key: 'kittest.outbox', subject: 'kittest.outbox.first.v1' },
      { key: 'thing:42', subject: 'kittest.outbox.second.v1' },
    ]);
    await outbox.flush();
    const events = await streamEvents('kittest.outbox');
    expect(events.map((e) => [e.subject, e.data])).toEqual([
      ['kittest.outbox.first.v1', { n: 1 }],
      ['kittest.outbox.second.v1', { n: 2 }],
    ]);
    expect(events[0].id).not.toEqual(events[1].id);
    expect((await db.query('SELECT count(*)::int AS n FROM kit_outbox')).rows[0].n).toBe(0);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    await expect(
      outbox.transaction(async (_tx, emit) => {
        emit('kittest.rollback.happened.v1', {});
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await outbox.flush();
    expect(await streamEvents('kittest.rollback')).toEqual([]);
  });

  it('refuses an emit after its transaction ended', async () => {
    let late: ((subject: string, data: unknown) => void) | undefined;
    await outbox.transaction(async (_tx, emit) => {
      late = emit;
    });
    expect(() => late!('kittest.late.emitted.v1', {})).toThrow(/after its transaction ended/);
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

describe('streams', () => {
  it('get a max age (7 days by default) and a duplicate window (10 minutes), updated on the next start', async () => {
    const days = 24 * 60 * 60 * 1e9;
    let { config } = await bus.jsm.streams.info('KITTEST');
    expect(config.max_age).toBe(7 * days);
    expect(config.duplicate_window).toBe(10 * 60 * 1e9);

    await ensureStream(bus, {
      name: 'KITTEST',
      subjects: ['kittest.>'],
      maxAgeMs: 2 * 24 * 60 * 60 * 1000,
      duplicateWindowMs: 5 * 60 * 1000,
    });
    ({ config } = await bus.jsm.streams.info('KITTEST'));
    expect(config.max_age).toBe(2 * days);
    expect(config.duplicate_window).toBe(5 * 60 * 1e9);
    expect(config.subjects).toEqual(['kittest.>']);
  });

  it('refuse a duplicate window longer than the max age', async () => {
    await expect(
      ensureStream(bus, { name: 'KITTEST', subjects: ['kittest.>'], maxAgeMs: 60_000, duplicateWindowMs: 120_000 }),
    ).rejects.toThrow(/duplicate window must not be longer than the max age/);
    // A short max age takes a duplicate window that fits by default.
    await ensureStream(bus, { name: 'KITSHORT', subjects: ['kitshort.>'], maxAgeMs: 60_000 });
    expect((await bus.jsm.streams.info('KITSHORT')).config.duplicate_window).toBe(60_000 * 1e6);
  });

  it('ask JetStream for the configured number of copies (EVENTS_STREAM_REPLICAS), 1 by default', async () => {
    expect((await bus.jsm.streams.info('KITTEST')).config.num_replicas).toBe(1);
    // A single server cannot keep 3 copies: the setting reaches JetStream, which refuses it
    // (a three-server cluster, as k8s/overlays/production has, accepts it).
    await expect(ensureStream(bus, { name: 'KITTHREE', subjects: ['kitthree.>'], replicas: 3 })).rejects.toThrow(/replicas/i);
  });
});
