import { startGateway, type RunningGateway } from '@assistants/gateway';
import { createLogger } from '@assistants/kit';
import {
  readStream,
  startAssignmentProcess,
  startGatewayProcess,
  startStack,
  type GatewayProcess,
  type TestStack,
  waitFor,
} from '@assistants/testing';
import pg from 'pg';

// Crashes during a U7 run (assign courses): the assignment service, then the gateway that
// sends the batches, killed with SIGKILL mid-run and started again. Every (user, course) must
// end up assigned once, announced once, and reported once. The stack's own gateway only
// answers the API (GATEWAY_RUN_CONCURRENCY=0): the batches go to the gateway each test starts.

const USERS = 3000;
const COURSES = 3;
const BATCH_SIZE = 100;
const BATCHES = USERS / BATCH_SIZE;

let stack: TestStack;
let gatewayDb: pg.Client;
let userIds: string[];

beforeAll(async () => {
  stack = await startStack({ GATEWAY_RUN_CONCURRENCY: '0', GATEWAY_RUN_BATCH_SIZE: String(BATCH_SIZE) });
  gatewayDb = new pg.Client({ connectionString: stack.gatewayDb.url });
  await gatewayDb.connect();
  const rootId = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
  const { rows } = await stack.identity.db.query<{ id: string }>(
    `INSERT INTO users (login, last_name, first_name, organisation_id)
     SELECT 'crash-' || lpad(i::text, 5, '0'), 'Crash ' || i, 'C', $1 FROM generate_series(1, ${USERS}) i
     RETURNING id`,
    [rootId],
  );
  userIds = rows.map((r) => r.id).sort();
  await stack.identity.db.query('ANALYZE users');
}, 120_000);

afterAll(async () => {
  await gatewayDb?.end();
  await stack?.stop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000) => waitFor(what, probe, timeoutMs, 20);

const runRow = async (id: string) => (await gatewayDb.query('SELECT * FROM gateway.runs WHERE id = $1', [id])).rows[0];
const batchesOf = async (id: string) =>
  (
    await gatewayDb.query<{ batch_no: number; status: string; attempts: number; last_error: string }>(
      'SELECT batch_no, status, attempts, last_error FROM gateway.run_batches WHERE run_id = $1 ORDER BY batch_no',
      [id],
    )
  ).rows;

async function newCourses(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= COURSES; n++) {
    const created = await stack.http('POST', '/v1/courses', { body: { code: `${prefix}-${n}`, name: `${prefix} ${n}` } });
    expect(created.status).toBe(201);
    ids.push(created.body.id);
  }
  return ids;
}

/** The ASSIGNMENT stream's next sequence number, once everything stored so far is published. */
async function streamPosition(): Promise<number> {
  await stack.assignment.flushEvents();
  return (await stack.assignment.bus.jsm.streams.info('ASSIGNMENT')).state.last_seq + 1;
}

async function startRun(courseIds: string[]): Promise<string> {
  const created = await stack.http('POST', '/v1/runs', {
    body: { assistant: 'users', action: 'U7', selection: { type: 'filter', filter: { login: 'crash-' } }, params: { courseIds } },
  });
  expect(created.status).toBe(202);
  expect(created.body.total).toBe(USERS);
  return created.body.id;
}

/** Waits until the run is between 20 % and 80 % done, and a batch is on its way. */
async function midRun(runId: string): Promise<number> {
  return until('the run to be a fifth done, a batch in flight', async () => {
    const { done } = await runRow(runId);
    const inFlight = (await batchesOf(runId)).some((b) => b.status === 'running');
    return done >= USERS * 0.2 && inFlight && done;
  });
}

/** The run completed, and each (user, course) was assigned once, announced once and reported once. */
async function expectEachAssignedOnce(runId: string, courseIds: string[], fromSeq: number) {
  const run = await until(`run ${runId} to complete`, async () => {
    const row = await runRow(runId);
    return row.status === 'completed' && row;
  });
  expect(run).toMatchObject({ total: USERS, done: USERS, succeeded: USERS * COURSES, unchanged: 0, failed: 0, not_done: 0 });
  const results = await gatewayDb.query(
    `SELECT count(*)::int AS n, count(DISTINCT (seq, target_id))::int AS pairs, count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded
     FROM gateway.run_results WHERE run_id = $1`,
    [runId],
  );
  expect(results.rows[0]).toEqual({ n: USERS * COURSES, pairs: USERS * COURSES, succeeded: USERS * COURSES });

  const assignment = stack.assignment.db;
  const rows = await assignment.query<{ course_id: string; n: number; users: number }>(
    `SELECT course_id, count(*)::int AS n, count(DISTINCT user_id)::int AS users
     FROM course_assignments WHERE course_id = ANY($1::uuid[]) GROUP BY course_id ORDER BY course_id`,
    [courseIds],
  );
  expect(rows.rows).toEqual([...courseIds].sort().map((course_id) => ({ course_id, n: USERS, users: USERS })));
  const assigned = await assignment.query<{ user_id: string }>(
    'SELECT DISTINCT user_id FROM course_assignments WHERE course_id = ANY($1::uuid[]) ORDER BY user_id',
    [courseIds],
  );
  expect(assigned.rows.map((r) => r.user_id)).toEqual(userIds);
  // Each batch applied (and recorded) under its key once.
  const keys = await assignment.query<{ n: number; distinct_keys: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS distinct_keys FROM kit_batches WHERE idempotency_key LIKE $1',
    [`run:${runId}:%`],
  );
  expect(keys.rows[0]).toEqual({ n: BATCHES, distinct_keys: BATCHES });

  // The events: whichever process holds the relay lease publishes them (a killed holder's
  // lease has to run out first).
  await stack.assignment.flushEvents();
  const ours = new Set(courseIds);
  const events = (await readStream(stack.assignment.bus, 'ASSIGNMENT', fromSeq))
    .filter((e) => e.subject === 'assignment.course.assigned.v1')
    .map((e) => (e.data as { assignment: { userId: string; courseId: string } }).assignment)
    .filter((a) => ours.has(a.courseId));
  expect(events).toHaveLength(USERS * COURSES);
  expect(new Set(events.map((a) => `${a.userId}/${a.courseId}`)).size).toBe(USERS * COURSES);
  expect([...new Set(events.map((a) => a.userId))].sort()).toEqual(userIds);
}

it('completes a U7 run whose assignment service is killed mid-run and started again, each assignment made once', async () => {
  const courseIds = await newCourses('KILL-ASSIGNMENT');
  const from = await streamPosition();
  // The assignment service that receives the batches is a process of its own, on the stack's
  // database and NATS server; the gateway that sends them talks to it only.
  const service = await startAssignmentProcess({
    nats: stack.nats,
    pg: stack.fixture.pg,
    identityAddress: stack.identity.address,
    catalogAddress: stack.catalog.address,
  });
  let worker: RunningGateway | undefined;
  try {
    worker = await startGateway({
      logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: {
        ...stack.gatewayEnv,
        ASSIGNMENT_ADDRESS: service.address,
        GATEWAY_RUN_CONCURRENCY: '2',
        GATEWAY_RUN_LEASE_SECONDS: '3',
        GATEWAY_RUN_POLL_MS: '50',
      },
    });
    const runId = await startRun(courseIds);
    const doneAtKill = await midRun(runId);
    await service.kill('SIGKILL');
    expect(doneAtKill).toBeLessThanOrEqual(USERS * 0.8);

    // The gateway finds it gone and keeps the batch for later; nothing else moves meanwhile.
    const waiting = await until('a batch sent back', async () =>
      (await batchesOf(runId)).find((b) => b.status === 'pending' && b.last_error),
    );
    expect(waiting.last_error).toMatch(/^assignment /);
    const stalled = await runRow(runId);
    expect(stalled.status).toBe('running');
    expect(stalled.done).toBeLessThan(USERS);

    await service.restart();
    await expectEachAssignedOnce(runId, courseIds, from);
    expect((await batchesOf(runId)).some((b) => b.attempts > 1)).toBe(true);
  } finally {
    await worker?.stop();
    await service.stop();
  }
}, 90_000);

it('completes a U7 run whose gateway is killed mid-run once another gateway is started, each assignment made once', async () => {
  const courseIds = await newCourses('KILL-GATEWAY');
  const from = await streamPosition();
  const env = { ...stack.gatewayEnv, GATEWAY_RUN_CONCURRENCY: '2', GATEWAY_RUN_LEASE_SECONDS: '2', GATEWAY_RUN_POLL_MS: '50' };
  let gateway: GatewayProcess | undefined = await startGatewayProcess(env);
  try {
    const runId = await startRun(courseIds);
    const doneAtKill = await midRun(runId);
    await gateway.kill();
    gateway = undefined;
    expect(doneAtKill).toBeLessThanOrEqual(USERS * 0.8);

    // Its batches in flight stay claimed by nobody alive until their leases run out.
    const orphans = (await batchesOf(runId)).filter((b) => b.status === 'running');
    expect(orphans.length).toBeGreaterThan(0);
    const stalled = await runRow(runId);
    expect(stalled.status).toBe('running');
    expect(stalled.done).toBeLessThan(USERS);

    gateway = await startGatewayProcess(env);
    await expectEachAssignedOnce(runId, courseIds, from);
    // The new gateway took the orphans over, and the service answered what it had recorded.
    const batches = await batchesOf(runId);
    for (const orphan of orphans)
      expect(batches.find((b) => b.batch_no === orphan.batch_no)).toMatchObject({ status: 'done', attempts: 2 });
  } finally {
    await gateway?.stop();
  }
}, 90_000);
