import { readStream } from '@assistants/testing';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { applyBatch, asDomainError, createLogger, createOutbox, itemResult, pruneBatches, type Outbox } from '../src';
import { startKitTestBed, type KitTestBed } from './helpers';

// applyBatch on the real PostgreSQL server: a key applies once, whoever repeats it and
// however many callers race on it; a dry run leaves nothing behind.

const logger = createLogger('kit-batch-test', 'silent');
let bed: KitTestBed;
let outbox: Outbox;

beforeAll(async () => {
  bed = await startKitTestBed({ schema: 'kitbatch', stream: { name: 'KITBATCH', subjects: ['kitbatch.>'] }, logger, poolSize: 12 });
  await bed.db.query('CREATE TABLE marks (item text NOT NULL, batch text NOT NULL)');
  outbox = createOutbox({ db: bed.db, bus: bed.bus, logger });
  outbox.start();
});

afterAll(async () => {
  await outbox?.stop();
  await bed?.close();
});

/** Marks every item once per application and emits one event per item. */
function markAll(batch: string, items: string[]) {
  return async (tx: Parameters<Parameters<typeof applyBatch>[3]>[0], emit: Parameters<Parameters<typeof applyBatch>[3]>[1]) => {
    await tx.query('INSERT INTO marks (item, batch) SELECT unnest($1::text[]), $2', [items, batch]);
    // Slow enough that racing callers really overlap.
    await tx.query('SELECT pg_sleep(0.05)');
    items.forEach((item) => emit('kitbatch.item.marked.v1', { item, batch }, `item:${item}`));
    return items.map((item) => (item === 'bad' ? itemResult.failed(item, '', 'NOT_FOUND', 'no such item') : itemResult.succeeded(item)));
  };
}

async function marks(batch: string): Promise<number> {
  const { rows } = await bed.db.query<{ n: number }>('SELECT count(*)::int AS n FROM marks WHERE batch = $1', [batch]);
  return rows[0]!.n;
}

it('applies a key once when 8 callers race on it, and every caller gets the same results', async () => {
  const request = { items: ['a', 'b', 'bad'] };
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => applyBatch(outbox, { idempotencyKey: 'race', dryRun: false }, request, markAll('race', request.items))),
  );
  expect(await marks('race')).toBe(3);
  expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
  for (const answer of answers) {
    expect(answer.results.map((r) => [r.itemId, r.outcome, r.code])).toEqual([
      ['a', Outcome.OUTCOME_SUCCEEDED, ''],
      ['b', Outcome.OUTCOME_SUCCEEDED, ''],
      ['bad', Outcome.OUTCOME_FAILED, 'NOT_FOUND'],
    ]);
  }
  await outbox.flush();
  const events = (await readStream(bed.bus, 'KITBATCH')).filter((e) => (e.data as { batch: string }).batch === 'race');
  expect(events).toHaveLength(3);
});

it('a dry run answers through the same code and leaves no row, no event and no record', async () => {
  const result = await applyBatch(outbox, { idempotencyKey: 'dry', dryRun: true }, { items: ['x'] }, markAll('dry', ['x']));
  expect(result.results.map((r) => r.itemId)).toEqual(['x']);
  expect(await marks('dry')).toBe(0);
  // The key is still free: a real application later is not mistaken for a replay.
  const real = await applyBatch(outbox, { idempotencyKey: 'dry', dryRun: false }, { items: ['x'] }, markAll('dry', ['x']));
  expect(real.replayed).toBe(false);
  expect(await marks('dry')).toBe(1);
  await outbox.flush();
  const events = (await readStream(bed.bus, 'KITBATCH')).filter((e) => (e.data as { batch: string }).batch === 'dry');
  expect(events).toHaveLength(1);
});

it('refuses a key reused for another request, and a missing key', async () => {
  await applyBatch(outbox, { idempotencyKey: 'once', dryRun: false }, { items: ['a'] }, markAll('once', ['a']));
  const reused = await applyBatch(outbox, { idempotencyKey: 'once', dryRun: false }, { items: ['b'] }, markAll('once', ['b'])).catch(
    (e) => e,
  );
  expect(asDomainError(reused)?.code).toBe('FAILED_PRECONDITION');
  expect(asDomainError(reused)?.field).toBe('batch.idempotency_key');
  const missing = await applyBatch(outbox, undefined, { items: ['c'] }, markAll('once', ['c'])).catch((e) => e);
  expect(asDomainError(missing)?.code).toBe('INVALID_ARGUMENT');
  expect(await marks('once')).toBe(1);
});

it('a failed application records nothing, so the key can be applied again', async () => {
  const boom = await applyBatch(outbox, { idempotencyKey: 'retry', dryRun: false }, { items: ['a'] }, async (tx) => {
    await tx.query(`INSERT INTO marks (item, batch) VALUES ('a', 'retry')`);
    throw new Error('service killed mid-batch');
  }).catch((e) => e);
  expect(boom).toBeInstanceOf(Error);
  expect(await marks('retry')).toBe(0);
  const again = await applyBatch(outbox, { idempotencyKey: 'retry', dryRun: false }, { items: ['a'] }, markAll('retry', ['a']));
  expect(again.replayed).toBe(false);
  expect(await marks('retry')).toBe(1);
});

it('prunes recorded batches older than the horizon', async () => {
  await bed.db.query(`UPDATE kit_batches SET applied_at = now() - interval '3 days' WHERE idempotency_key = 'race'`);
  expect(await pruneBatches(bed.db, 48)).toBe(1);
  const { rows } = await bed.db.query(`SELECT idempotency_key FROM kit_batches ORDER BY 1`);
  expect(rows.map((r) => r.idempotency_key)).toEqual(['dry', 'once', 'retry']);
});
