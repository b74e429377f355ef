import { createTestDatabase, type TestDatabase } from '@assistants/testing';
import { asDomainError, createLogger, MAX_PREPARED_TEXTS, openDatabase, prepared, withContext, type Database } from '../src';

/** Statements within a call's deadline: the server stops them at the deadline, and a pooled
 * connection keeps its statement_timeout while calls need the same one (no transaction, no
 * extra round trip per statement). First on one connection, so that every call shares it,
 * then with several calls at once on small pools of two processes' worth (replicas). */
let pg: TestDatabase;
let db: Database;

beforeAll(async () => {
  pg = await createTestDatabase('kit_db');
  db = await openDatabase({ url: pg.url, schema: 'kit_db', dataDir: '', logger: createLogger('db-test', 'silent'), poolSize: 1 });
});
afterAll(async () => {
  await db?.close();
  await pg?.drop();
});

const within = <T>(ms: number, fn: () => Promise<T>) => withContext({ deadline: Date.now() + ms }, fn);
/** What the call answers for the error a statement failed with (the gRPC layer's reading). */
const answered = (work: Promise<unknown>) =>
  work.then(
    () => 'OK',
    (err) => asDomainError(err)?.code ?? String(err),
  );
const timeout = async () => (await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout;

test('a statement still running at the deadline is stopped by the server: DEADLINE_EXCEEDED', async () => {
  const started = Date.now();
  expect(await answered(within(300, () => db.query('SELECT pg_sleep(5)')))).toBe('DEADLINE_EXCEEDED');
  expect(Date.now() - started).toBeLessThan(2000);
  // The connection is fine after it, and a call without a deadline gets the backstop again.
  expect(await timeout()).toBe('1min');
});

test("a connection's timeout is kept while calls fall within a tenth of it, set again otherwise, and inside transactions", async () => {
  // The time left when the connection is taken: a millisecond or two less than the deadline given.
  const ms = (setting: string) => {
    const [, value, unit] = /^(\d+)(ms|s|min)$/.exec(setting)!;
    return Number(value) * { ms: 1, s: 1000, min: 60_000 }[unit as 'ms' | 's' | 'min'];
  };
  const first = ms(await within(10_000, timeout));
  expect(first).toBeGreaterThan(9_900);
  expect(first).toBeLessThanOrEqual(10_000);
  // 9.5 s left: the 10 s already set stops it at most 0.5 s late; kept.
  expect(ms(await within(9_500, timeout))).toBe(first);
  // 3 s left: set again (10 s would stop it far too late).
  const second = ms(await within(3_000, timeout));
  expect(second).toBeGreaterThan(2_900);
  expect(second).toBeLessThanOrEqual(3_000);
  // 5 s left: 3 s would stop it early; set again.
  expect(ms(await within(5_000, timeout))).toBeGreaterThan(4_900);
  const inTransaction = await within(5_000, () =>
    db.transaction(async (tx) => (await tx.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout),
  );
  expect(ms(inTransaction)).toBeGreaterThan(4_900);
  expect(await answered(within(300, () => db.transaction((tx) => tx.query('SELECT pg_sleep(5)'))))).toBe('DEADLINE_EXCEEDED');
  expect(await timeout()).toBe('1min');
});

test('a call past its deadline sends nothing', async () => {
  expect(await answered(within(-1, () => db.query('SELECT 1')))).toBe('DEADLINE_EXCEEDED');
});

test('a text is prepared once on a connection; past MAX_PREPARED_TEXTS texts a new one goes unprepared', async () => {
  const preparedOnServer = async () =>
    (await db.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((r) => r.statement);
  const first = prepared('SELECT 1 AS n');
  expect(prepared('SELECT 1 AS n')).toEqual(first);
  expect((await db.query(first)).rows).toEqual([{ n: 1 }]);
  expect((await db.query(first)).rows).toEqual([{ n: 1 }]);
  expect((await preparedOnServer()).filter((t) => t === 'SELECT 1 AS n')).toHaveLength(1);
  // A caller building its texts from values.
  for (let i = 0; i <= MAX_PREPARED_TEXTS; i++) await db.query(prepared(`SELECT ${i} AS v`));
  expect(prepared('SELECT 2 AS n')).toBe('SELECT 2 AS n');
  expect((await db.query(prepared('SELECT 2 AS n'))).rows).toEqual([{ n: 2 }]);
  const held = await preparedOnServer();
  expect(held).not.toContain('SELECT 2 AS n');
  expect(held.length).toBeLessThanOrEqual(MAX_PREPARED_TEXTS);
  // Those prepared before stay prepared.
  expect((await db.query(first)).rows).toEqual([{ n: 1 }]);
});

describe('several calls at once, on a pool of two connections and a second pool (another replica)', () => {
  let small: Database;
  let other: Database;
  beforeAll(async () => {
    const options = { url: pg.url, schema: 'kit_db', dataDir: '', logger: createLogger('db-test', 'silent'), poolSize: 2 };
    small = await openDatabase(options);
    other = await openDatabase(options);
    await small.query('CREATE TABLE IF NOT EXISTS written (id int PRIMARY KEY)');
  });
  afterAll(async () => {
    await small?.close();
    await other?.close();
  });

  test('a call whose deadline passes while it waits for a connection runs nothing, and writes nothing', async () => {
    const busy = [small.query('SELECT pg_sleep(0.6)'), small.query('SELECT pg_sleep(0.6)')];
    const read = answered(within(300, () => small.query('SELECT 1')));
    const write = answered(within(300, () => small.transaction((tx) => tx.query('INSERT INTO written VALUES (1)'))));
    expect(await read).toBe('DEADLINE_EXCEEDED');
    expect(await write).toBe('DEADLINE_EXCEEDED');
    await Promise.all(busy);
    expect((await small.query('SELECT count(*)::int AS n FROM written')).rows[0].n).toBe(0);
  });

  test("calls with and without deadlines mixed: none runs under another call's timeout", async () => {
    // Short deadlines that stop their statement leave 250 ms on the connection; the calls
    // without a deadline after them on the same connection must get the backstop again.
    const calls: { kind: string; work: () => Promise<unknown> }[] = [];
    for (let i = 0; i < 12; i++) {
      const db = i % 3 === 0 ? other : small;
      calls.push({ kind: 'stopped', work: () => within(250, () => db.query('SELECT pg_sleep(3)')) });
      calls.push({ kind: 'no deadline', work: () => db.query('SELECT pg_sleep(0.35)') });
      calls.push({ kind: 'long deadline', work: () => within(30_000, () => db.query('SELECT pg_sleep(0.3)')) });
    }
    const outcomes = await Promise.all(calls.map(async (c) => `${c.kind}: ${await answered(c.work())}`));
    expect(outcomes.filter((o) => o.startsWith('stopped')).every((o) => o.endsWith('DEADLINE_EXCEEDED'))).toBe(true);
    expect(outcomes.filter((o) => !o.startsWith('stopped'))).toEqual(
      Array(24)
        .fill(null)
        .map((_, i) => (i % 2 ? 'long deadline: OK' : 'no deadline: OK')),
    );
  });
});
