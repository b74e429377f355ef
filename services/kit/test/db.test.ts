import { createTestDatabase, type TestDatabase } from '@assistants/testing';
import { asDomainError, createLogger, openDatabase, withContext, type Database } from '../src';

/** Statements within a call's deadline: the server stops them at the deadline, and a pooled
 * connection keeps its statement_timeout while calls need the same one (no transaction, no
 * extra round trip per statement). One connection, so that every call shares it. */
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
  expect(await within(10_000, timeout)).toBe('10s');
  // 9.5 s left: the 10 s already set stops it at most 0.5 s late; kept.
  expect(await within(9_500, timeout)).toBe('10s');
  // 3 s left: set again (10 s would stop it far too late).
  expect(await within(3_000, timeout)).toBe('3s');
  // 5 s left: 3 s would stop it early; set again.
  expect(await within(5_000, timeout)).toBe('5s');
  expect(
    await within(5_000, () => db.transaction(async (tx) => (await tx.query('SHOW statement_timeout')).rows[0].statement_timeout)),
  ).toBe('5s');
  expect(await answered(within(300, () => db.transaction((tx) => tx.query('SELECT pg_sleep(5)'))))).toBe('DEADLINE_EXCEEDED');
  expect(await timeout()).toBe('1min');
});

test('a call past its deadline sends nothing', async () => {
  expect(await answered(within(-1, () => db.query('SELECT 1')))).toBe('DEADLINE_EXCEEDED');
});
