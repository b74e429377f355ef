import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readStream, type TestDatabase, type TestNats } from '@assistants/testing';
import { createLogger, createOutbox, outboxStatus, type Bus, type Database, type EventEnvelope } from '../src';
import { sleep, waitFor, startKitTestBed, type KitTestBed } from './helpers';

// The relay's process killed (SIGKILL) while it publishes and 8 writers commit on the real
// PostgreSQL server: another replica takes over when the dead one's lease runs out, and the
// stream ends with every committed event exactly once, in commit order per key — those the
// dead relay published without deleting them included.

const logger = createLogger('kit-outbox-crash-test', 'silent');
let nats: TestNats;
let pg: TestDatabase;
let db: Database;
let bus: Bus;
let bed: KitTestBed;

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kitcrash', stream: { name: 'CRASH', subjects: ['crash.>'] }, logger, poolSize: 10 });
  ({ nats, pg, db, bus } = bed);
});

afterAll(async () => {
  await bed?.close();
});

it('loses and doubles nothing when the relay process is killed mid-publishing, with 8 writers at once', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'relay-process.ts')], {
    env: { ...process.env, DATABASE_URL: pg.url, NATS_URL: nats.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => String(d).includes('relaying') && resolve());
    child.once('exit', (code) => reject(new Error(`relay process exited early (${code})`)));
  });

  // This replica writes; it does not relay until the other one is dead.
  const replica = createOutbox({ db, bus, logger, pollMs: 20, leaseMs: 3000 });
  const WRITERS = 8;
  const TRANSACTIONS = 60;
  const committed: string[] = [];
  const writing = Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let n = 1; n <= TRANSACTIONS; n++) {
        await replica.transaction(async (_tx, emit) => {
          for (let i = 0; i < 2; i++) emit('crash.writer.wrote.v1', { w, n, i }, `writer:${w}`);
        });
        committed.push(`${w}/${n}/0`, `${w}/${n}/1`);
        await sleep(5);
      }
    }),
  );

  const storedAtKill = await waitFor('the relay process to publish', async () => {
    const { messages } = (await bus.jsm.streams.info('CRASH')).state;
    return messages >= 100 ? messages : 0;
  });
  child.kill('SIGKILL');
  await exited;
  await writing;
  expect(storedAtKill).toBeLessThan(WRITERS * TRANSACTIONS * 2);

  replica.start();
  await replica.flush({ timeoutMs: 30_000 });
  await replica.stop();

  const events = (await readStream(bus, 'CRASH')) as EventEnvelope<{ w: number; n: number; i: number }>[];
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const seen = events.map((e) => `${e.data.w}/${e.data.n}/${e.data.i}`);
  expect(seen.length).toBe(committed.length);
  expect([...seen].sort()).toEqual([...committed].sort());
  for (let w = 0; w < WRITERS; w++) {
    const mine = events.filter((e) => e.data.w === w).map((e) => e.data.n * 10 + e.data.i);
    expect(mine).toEqual([...mine].sort((a, b) => a - b));
  }
  expect(await outboxStatus(db)).toMatchObject({ pending: 0, unpublishable: 0 });
}, 60_000);
