import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '@assistants/gateway';
import { createLogger } from '@assistants/kit';
import { freePort, readStream, startGatewayProcess, startStack, waitFor, type GatewayProcess, type TestStack } from '@assistants/testing';
import pg from 'pg';

// Runs carried by several gateways, killed ones, and an identity that goes away. The
// stack's own gateway only answers the API (GATEWAY_RUN_CONCURRENCY=0): the batches go to
// the replicas each test starts on the same database. Batches of 10 users.

let stack: TestStack;
let gatewayDb: pg.Client;
let rootId: string;
const users: { id: string; login: string }[] = [];
const USERS = 200;

beforeAll(async () => {
  // Identity on a fixed port, so that it can come back where the gateways look for it.
  stack = await startStack(
    // Credentials stay trusted while identity is away (a cancel then).
    { GATEWAY_RUN_CONCURRENCY: '0', GATEWAY_RUN_BATCH_SIZE: '10', GATEWAY_RUN_POLL_MS: '20', GATEWAY_AUTH_CACHE_SECONDS: '60' },
    { IDENTITY_GRPC_PORT: String(await freePort()) },
  );
  gatewayDb = new pg.Client({ connectionString: stack.gatewayDb.url });
  await gatewayDb.connect();
  rootId = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
  const { rows } = await stack.identity.db.query<{ id: string; login: string }>(
    `INSERT INTO users (login, last_name, first_name, organisation_id)
     SELECT 'member-' || lpad(i::text, 3, '0'), 'Member ' || lpad(i::text, 3, '0'), 'M', $1 FROM generate_series(1, ${USERS}) i
     RETURNING id, login`,
    [rootId],
  );
  users.push(...rows);
}, 120_000);

afterAll(async () => {
  await gatewayDb?.end();
  await stack?.stop();
});

/** Another gateway in this process, on the stack's database and services. */
const replica = (env: Record<string, string> = {}) =>
  startGateway({
    logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'),
    env: { ...stack.gatewayEnv, GATEWAY_PORT: '0', GATEWAY_HEALTH_PORT: '0', GATEWAY_RUN_CONCURRENCY: '2', ...env },
  });

async function startRun(audienceId: string): Promise<string> {
  const created = await stack.http('POST', '/v1/runs', {
    body: {
      assistant: 'users',
      action: 'U2',
      selection: { type: 'filter', filter: { login: 'member-' } },
      params: { audienceIds: [audienceId] },
    },
  });
  expect(created.status).toBe(202);
  return created.body.id;
}

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000) => waitFor(what, probe, timeoutMs, 20);

const runRow = async (id: string) => (await gatewayDb.query('SELECT * FROM gateway.runs WHERE id = $1', [id])).rows[0];
const batchesOf = async (id: string) =>
  (
    await gatewayDb.query(
      'SELECT batch_no, status, attempts, lease_owner, last_error FROM gateway.run_batches WHERE run_id = $1 ORDER BY batch_no',
      [id],
    )
  ).rows;
const completed = (id: string) =>
  until(`run ${id} to complete`, async () => ((await runRow(id)).status === 'completed' ? runRow(id) : undefined));

/** Everything identity holds and said about the audience: each member once, in rows and in
 * events (read from the given stream position on), and each batch key recorded once. */
async function expectAppliedOnce(runId: string, audienceId: string, fromSeq: number) {
  const identity = stack.fixture.identity;
  const { rows } = await identity.db.query<{ user_id: string; n: string }>(
    'SELECT user_id, count(*) AS n FROM user_audiences WHERE audience_id = $1 GROUP BY user_id',
    [audienceId],
  );
  expect(rows.map((r) => r.user_id).sort()).toEqual(users.map((u) => u.id).sort());
  await identity.flushEvents();
  const events = (await readStream(identity.bus, 'IDENTITY', fromSeq)).filter(
    (e) => e.subject === 'identity.user.updated.v1' && (e.data as any).changedFields.includes('audiences'),
  );
  expect(events.map((e) => (e.data as any).user.id).sort()).toEqual(users.map((u) => u.id).sort());
  const keys = await identity.db.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM kit_batches WHERE idempotency_key LIKE $1',
    [`run:${runId}:%`],
  );
  expect(keys.rows.map((k) => k.idempotency_key).sort()).toEqual(
    Array.from({ length: USERS / 10 }, (_, i) => `run:${runId}:${i + 1}`).sort(),
  );
  const run = await runRow(runId);
  expect(run).toMatchObject({ status: 'completed', total: USERS, done: USERS, succeeded: USERS, unchanged: 0, failed: 0 });
  const results = await gatewayDb.query('SELECT count(*) AS n, count(DISTINCT seq) AS items FROM gateway.run_results WHERE run_id = $1', [
    runId,
  ]);
  expect(results.rows[0]).toEqual({ n: String(USERS), items: String(USERS) });
}

async function streamPosition(): Promise<number> {
  await stack.fixture.identity.flushEvents();
  return (await stack.fixture.identity.bus.jsm.streams.info('IDENTITY')).state.last_seq + 1;
}

const newAudience = async (name: string) => (await stack.http('POST', '/v1/audiences', { body: { name } })).body.id as string;

it('shares a run between two gateways on one database, each batch sent by one of them only', async () => {
  const audience = await newAudience('Shared');
  const from = await streamPosition();
  const gateways: RunningGateway[] = [await replica(), await replica()];
  try {
    const runId = await startRun(audience);
    await completed(runId);
    const batches = await batchesOf(runId);
    expect(batches).toHaveLength(USERS / 10);
    expect(batches.every((b) => b.status === 'done' && b.attempts === 1)).toBe(true);
    // Both took part.
    expect(new Set(batches.map((b) => b.lease_owner))).toEqual(new Set(gateways.map((g) => g.workerId)));
    await expectAppliedOnce(runId, audience, from);
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
  }
});

it('finishes the run of a gateway killed mid-run once another is started, every user applied once', async () => {
  const audience = await newAudience('Survivor');
  const from = await streamPosition();
  const env = { ...stack.gatewayEnv, GATEWAY_RUN_CONCURRENCY: '1', GATEWAY_RUN_LEASE_SECONDS: '2', GATEWAY_RUN_POLL_MS: '50' };
  const first = await startGatewayProcess(env);
  const runId = await startRun(audience);
  await until('a few batches', async () => (await runRow(runId)).done >= 30);

  // Identity holds the next batch (it waits on its batch table) while the gateway is killed
  // with the call in flight; released, identity applies and records it for nobody.
  const blocker = new pg.Client({ connectionString: stack.fixture.pg.url });
  await blocker.connect();
  let inFlight: { batch_no: number; attempts: number };
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE identity.kit_batches IN SHARE ROW EXCLUSIVE MODE');
    // The waiter first, then the batch: a batch read as running before identity waits may be
    // one whose write committed before the lock, about to be recorded done.
    inFlight = await until('a batch held by identity', async () => {
      const waiting = await blocker.query(`SELECT 1 FROM pg_locks WHERE relation = 'identity.kit_batches'::regclass AND NOT granted`);
      return waiting.rowCount ? (await batchesOf(runId)).find((b) => b.status === 'running') : undefined;
    });
    await first.kill();
    await blocker.query('COMMIT');
  } finally {
    await blocker.end();
  }
  const applied = await until('identity to apply the orphan batch', async () => {
    const { rowCount } = await stack.fixture.identity.db.query('SELECT 1 FROM kit_batches WHERE idempotency_key = $1', [
      `run:${runId}:${inFlight.batch_no}`,
    ]);
    return rowCount === 1;
  });
  expect(applied).toBe(true);
  const stalled = await runRow(runId);
  expect(stalled.status).toBe('running');
  expect(stalled.done).toBeLessThan(USERS);

  // A new gateway takes the batch over once its lease ran out, and identity answers what it recorded.
  const second = await startGatewayProcess(env);
  try {
    await completed(runId);
  } finally {
    await second.stop();
  }
  const retaken = (await batchesOf(runId)).find((b) => b.batch_no === inFlight.batch_no)!;
  expect(retaken).toMatchObject({ status: 'done', attempts: 2 });
  await expectAppliedOnce(runId, audience, from);
}, 60_000);

it('waits for an identity that went away and goes on when it is back', async () => {
  const audience = await newAudience('Patient');
  const from = await streamPosition();
  const gateway = await replica({ GATEWAY_RUN_CONCURRENCY: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: '1000' });
  try {
    const runId = await startRun(audience);
    await until('a few batches', async () => (await runRow(runId)).done >= 30);
    await stack.fixture.identity.stop();
    const waiting = await until('a batch sent back', async () =>
      (await batchesOf(runId)).find((b) => b.status === 'pending' && b.last_error),
    );
    expect(waiting.last_error).toMatch(/^identity (is unavailable, try again shortly|did not answer in time)$/);
    expect((await runRow(runId)).status).toBe('running');
    await stack.fixture.restart();
    await completed(runId);
    await expectAppliedOnce(runId, audience, from);
  } finally {
    await gateway.stop();
  }
}, 60_000);

it('cancelled while a batch waits for identity, sends that batch again to learn what it did, and no other', async () => {
  const audience = await newAudience('Cancelled while away');
  const gateway = await replica({ GATEWAY_RUN_CONCURRENCY: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: '1000' });
  try {
    const runId = await startRun(audience);
    await until('a few batches', async () => (await runRow(runId)).done >= 30);
    await stack.fixture.identity.stop();
    const waiting = await until('a batch sent back', async () =>
      (await batchesOf(runId)).find((b) => b.status === 'pending' && b.attempts > 0),
    );
    const done = (await runRow(runId)).done;
    const cancelling = await stack.http('POST', `/v1/runs/${runId}/cancel`);
    expect(cancelling.body).toMatchObject({ status: 'cancelling', done, notDone: USERS - done - 10 });
    await stack.fixture.restart();
    await until('the run to be cancelled', async () => (await runRow(runId)).status === 'cancelled');
    const batches = await batchesOf(runId);
    expect(batches.find((b) => b.batch_no === waiting.batch_no)).toMatchObject({ status: 'done' });
    expect(batches.filter((b) => b.status === 'done')).toHaveLength(done / 10 + 1);
    expect(await runRow(runId)).toMatchObject({ done: done + 10, succeeded: done + 10, not_done: USERS - done - 10 });
    const { rows } = await stack.fixture.identity.db.query('SELECT count(*) AS n FROM user_audiences WHERE audience_id = $1', [audience]);
    expect(Number(rows[0].n)).toBe(done + 10);
  } finally {
    await gateway.stop();
  }
}, 60_000);

it('runs on the embedded database when no database URL is set, and keeps its runs over a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'assistants-gateway-'));
  const env = {
    ...stack.gatewayEnv,
    GATEWAY_DATABASE_URL: '',
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_RUN_CONCURRENCY: '2',
    IDENTITY_ADDRESS: stack.fixture.identity.address,
  };
  const audience = await newAudience('Embedded');
  let gateway: GatewayProcess | undefined;
  const http = async (method: string, path: string, body?: object) => {
    const response = await fetch(`${gateway!.url}${path}`, {
      method,
      headers: { authorization: stack.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  try {
    gateway = await startGatewayProcess(env);
    const created = await http('POST', '/v1/runs', {
      assistant: 'users',
      action: 'U2',
      selection: { type: 'ids', ids: users.slice(0, 25).map((u) => u.id) },
      params: { audienceIds: [audience] },
    });
    expect(created.status).toBe(202);
    const done = await until('the embedded run', async () => {
      const run = (await http('GET', `/v1/runs/${created.body.id}`)).body;
      return run.status === 'completed' ? run : undefined;
    });
    expect(done).toMatchObject({ total: 25, succeeded: 25 });
    await gateway.stop();
    gateway = await startGatewayProcess(env);
    expect((await http('GET', `/v1/runs/${created.body.id}`)).body).toMatchObject({ status: 'completed', succeeded: 25 });
  } finally {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);

// How fast it freezes is measured by bench:assign, not here (a loaded CI machine is no clock).
it('freezes a selection of 50,000 users into 50,000 distinct items and their batches', async () => {
  await stack.fixture.identity.db.query(
    `INSERT INTO users (login, last_name, first_name, organisation_id)
     SELECT 'bulk-' || i, 'Bulk ' || (i % 997), 'B' || i, $1 FROM generate_series(1, 50000) i`,
    [rootId],
  );
  await stack.fixture.identity.db.query('ANALYZE');
  const audience = await newAudience('Bulk');
  const created = await stack.http('POST', '/v1/runs', {
    body: {
      assistant: 'users',
      action: 'U2',
      selection: { type: 'filter', filter: { login: 'bulk-' } },
      params: { audienceIds: [audience] },
    },
  });
  expect(created.status).toBe(202);
  expect(created.body).toMatchObject({ status: 'pending', total: 50_000 });
  const { rows } = await gatewayDb.query(
    `SELECT count(*) AS n, count(DISTINCT item_id) AS distinct_items, max(seq) AS last FROM gateway.run_items WHERE run_id = $1`,
    [created.body.id],
  );
  expect(rows[0]).toEqual({ n: '50000', distinct_items: '50000', last: 50000 });
  expect((await batchesOf(created.body.id)).length).toBe(5000);

  // Nobody works on it here: cancelled, every user is reported not done.
  const cancelled = await stack.http('POST', `/v1/runs/${created.body.id}/cancel`);
  expect(cancelled.body).toMatchObject({ status: 'cancelled', done: 0, notDone: 50_000 });
}, 60_000);
