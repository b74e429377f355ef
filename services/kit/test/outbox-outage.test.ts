import { performance } from 'node:perf_hooks';
import { readStream, type TestDatabase, type TestNats } from '@assistants/testing';
import { createLogger, createOutbox, openDatabase, outboxStatus, type Bus, type Database, type EventEnvelope } from '../src';
import { capturingLogger, sleep, waitFor, startKitTestBed, type KitTestBed } from './helpers';

// NATS killed (SIGKILL) while the services write, then started again on the same port and
// store: transactions never wait on NATS, the relay backs off, and once NATS is back every
// event is published exactly once, in order.

const logger = createLogger('kit-outage-test', 'silent');
const FAILED = 'outbox relay: publishing failed, will retry';
let nats: TestNats;
let pg: TestDatabase;
let db: Database;
let bus: Bus;
let bed: KitTestBed;

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kitoutage', stream: { name: 'KITDOWN', subjects: ['kitdown.>'] }, logger });
  ({ nats, pg, db, bus } = bed);
});

afterAll(async () => {
  await bed?.close();
});

async function streamEvents(subjectPrefix: string): Promise<EventEnvelope<any>[]> {
  return (await readStream(bus, 'KITDOWN')).filter((e) => e.subject.startsWith(subjectPrefix));
}

it('keeps writing on a one-connection pool while NATS is down, and publishes every event once, in order, when it is back', async () => {
  const { logger: relayLogger, lines } = capturingLogger('relay', 'warn');
  // One connection, like the embedded database: a relay holding it while it waits on NATS
  // would stop every transaction.
  const single = await openDatabase({ url: pg.url, schema: 'kitoutage', dataDir: '', logger, poolSize: 1 });
  const outbox = createOutbox({ db: single, bus, logger: relayLogger, backoff: { initialMs: 200, maxMs: 1000 } });
  outbox.start();
  const expected: string[] = [];
  const durations: number[] = [];
  const write = (from: number, to: number) =>
    Promise.all(
      Array.from({ length: 5 }, async (_, w) => {
        for (let n = from; n <= to; n++) {
          const started = performance.now();
          await outbox.transaction(async (tx, emit) => {
            await tx.query('SELECT 1');
            emit('kitdown.writer.wrote.v1', { w, n }, `writer:${w}`);
          });
          durations.push(performance.now() - started);
          expected.push(`${w}/${n}`);
          await sleep(50);
        }
      }),
    );
  try {
    await write(1, 10);
    await outbox.flush();
    expect(await streamEvents('kitdown.writer')).toHaveLength(50);

    await nats.kill();
    const killed = Date.now();
    durations.length = 0;
    await write(11, 40);
    // The relay, woken by the first of these writes, waited on NATS (a publication times out
    // after 5 s) instead of failing at once, and no transaction waited meanwhile (however long
    // the writes took on a loaded machine).
    const firstFailure = await waitFor('a failed round', () => lines().find((l) => l.msg === FAILED), 15_000);
    expect(Date.parse(firstFailure!.time) - killed).toBeGreaterThanOrEqual(4_500);
    expect(durations).toHaveLength(150);
    expect(Math.max(...durations)).toBeLessThan(1000);
    expect((await outboxStatus(single)).pending).toBe(150);

    await nats.restart();
    await waitFor('the outbox to empty', async () => (await outboxStatus(single)).pending === 0, 30_000, 200);
    await outbox.flush();
  } finally {
    await outbox.stop();
    await single.close();
  }

  const events = await streamEvents('kitdown.writer');
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const seen = events.map((e) => `${e.data.w}/${e.data.n}`);
  expect(seen).toHaveLength(200);
  expect([...seen].sort()).toEqual([...expected].sort());
  for (let w = 0; w < 5; w++) {
    const mine = events.filter((e) => e.data.w === w).map((e) => e.data.n);
    expect(mine).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }
});

it('backs off after failed rounds (doubling up to a maximum), and commits during a back-off do not trigger a retry', async () => {
  const { logger: relayLogger, lines } = capturingLogger('relay', 'info');
  const outbox = createOutbox({ db, bus, logger: relayLogger, publishTimeoutMs: 200, backoff: { initialMs: 400, maxMs: 1600 } });
  outbox.start();
  let commits = 0;
  try {
    await nats.kill();
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      await outbox.transaction(async (_tx, emit) => emit('kitdown.backoff.tried.v1', { n: ++commits }, 'backoff'));
      await sleep(50);
    }
    const failures = lines().filter((l) => l.msg === FAILED);
    expect(commits).toBeGreaterThan(50);
    // Without the back-off, every commit would have started a round.
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.length).toBeLessThanOrEqual(8);
    failures.forEach((f, i) => {
      const ceiling = Math.min(1600, 400 * 2 ** i);
      expect(f.failures).toBe(i + 1);
      expect(f.retryInMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(f.retryInMs).toBeLessThanOrEqual(ceiling);
    });

    await nats.restart();
    await waitFor('the outbox to empty', async () => (await outboxStatus(db)).pending === 0, 30_000, 200);
    // Success resets the back-off.
    expect(lines().some((l) => l.msg === 'outbox relay: publishing again')).toBe(true);
  } finally {
    await outbox.stop();
  }
  const events = await streamEvents('kitdown.backoff');
  expect(events.map((e) => e.data.n)).toEqual(Array.from({ length: commits }, (_, i) => i + 1));
});
