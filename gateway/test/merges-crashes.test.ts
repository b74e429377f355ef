import { randomUUID } from 'node:crypto';
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

// Crashes during a user merge (M1): the gateway carrying the saga, then the assignment
// service, killed with SIGKILL mid-merge and started again. The merge must finish, each step
// applied once, and at no moment may both users or neither hold the merged user's data, nor
// the merged user be deleted while it still holds any. The stack's own gateway only answers
// the API (GATEWAY_RUN_CONCURRENCY=0: its merge worker claims nothing); the saga runs in the
// gateway each test starts.

const ONLY_Z = 3000;
const SHARED = 50;

let stack: TestStack;
let db: pg.Client;
let gatewayDb: pg.Client;
let root: string;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_RUN_CONCURRENCY: '0' });
  db = new pg.Client({ connectionString: stack.fixture.pg.url });
  await db.connect();
  gatewayDb = new pg.Client({ connectionString: stack.gatewayDb.url });
  await gatewayDb.connect();
  root = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
}, 120_000);

afterAll(async () => {
  await db?.end();
  await gatewayDb?.end();
  await stack?.stop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000) => waitFor(what, probe, timeoutMs, 10);

/** Z with ONLY_Z courses of its own and SHARED courses A has too, and a list; A with the
 * SHARED courses. Rows written straight into the stack's database (the merge is what is
 * tested, not how they were assigned). */
async function twoUsers(prefix: string) {
  const user = async (login: string) => {
    const created = await stack.http('POST', '/v1/users', { body: { login, lastName: login, firstName: 'M', organisationId: root } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const z = await user(`${prefix}-z`);
  const a = await user(`${prefix}-a`);
  const onlyZ = Array.from({ length: ONLY_Z }, () => randomUUID());
  const shared = Array.from({ length: SHARED }, () => randomUUID());
  await db.query(
    `INSERT INTO assignment.course_assignments (user_id, course_id, option, direct)
     SELECT $1, c, 'free', true FROM unnest($2::uuid[]) c`,
    [z, [...onlyZ, ...shared]],
  );
  await db.query(
    `INSERT INTO assignment.course_assignments (user_id, course_id, option, direct, start_date)
     SELECT $1, c, 'mandatory', true, '2027-01-01' FROM unnest($2::uuid[]) c`,
    [a, shared],
  );
  const list = await stack.http('POST', '/v1/lists', { body: { name: `${prefix} list`, type: 'static', memberIds: [z] } });
  expect(list.status).toBe(201);
  return { z, a, onlyZ, shared, listId: list.body.id as string };
}

type Users = Awaited<ReturnType<typeof twoUsers>>;

/**
 * Watches the two users while the merge goes on, one consistent snapshot (one statement) at
 * a time: Z's own courses are held by exactly one of the two, all by Z or all by A; the list
 * has exactly one of them; Z is deleted only when it holds nothing. Returns the stop, which
 * answers what it saw.
 */
function watch(u: Users) {
  let stopped = false;
  const seen = new Set<string>();
  const violations: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await db.query<{ z_exists: boolean; z_only: number; a_only: number; z_all: number; z_list: number; a_list: number }>(
        `SELECT EXISTS (SELECT 1 FROM identity.users WHERE id = $1) AS z_exists,
           (SELECT count(*)::int FROM assignment.course_assignments WHERE user_id = $1 AND course_id = ANY($3::uuid[])) AS z_only,
           (SELECT count(*)::int FROM assignment.course_assignments WHERE user_id = $2 AND course_id = ANY($3::uuid[])) AS a_only,
           (SELECT count(*)::int FROM assignment.course_assignments WHERE user_id = $1) AS z_all,
           (SELECT count(*)::int FROM identity.list_members WHERE list_id = $4 AND user_id = $1) AS z_list,
           (SELECT count(*)::int FROM identity.list_members WHERE list_id = $4 AND user_id = $2) AS a_list`,
        [u.z, u.a, u.onlyZ, u.listId],
      );
      const s = rows[0];
      const state = `${s.z_exists ? 'Z' : '-'} courses:${s.z_only}/${s.a_only} list:${s.z_list}/${s.a_list}`;
      seen.add(state);
      const coursesOnce = (s.z_only === ONLY_Z && s.a_only === 0) || (s.z_only === 0 && s.a_only === ONLY_Z);
      const listOnce = s.z_list + s.a_list === 1;
      const deletedEmpty = s.z_exists || (s.z_all === 0 && s.z_list === 0);
      if (!coursesOnce || !listOnce || !deletedEmpty) violations.push(state);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { seen: [...seen], violations };
  };
}

const mergeRow = async (id: string) => (await gatewayDb.query('SELECT * FROM gateway.merges WHERE id = $1', [id])).rows[0];

async function startMerge(u: Users): Promise<string> {
  const created = await stack.http('POST', '/v1/merges', { body: { deleteUserId: u.z, keepUserId: u.a } });
  expect(created.status).toBe(202);
  return created.body.id;
}

/** The merge succeeded; each step was applied once (one recorded key, one removal event per
 * course); A holds every course once with the shared ones kept mandatory. */
async function expectMergedOnce(id: string, u: Users, fromSeq: number) {
  const merge = await until(`merge ${id} to end`, async () => {
    const body = (await stack.http('GET', `/v1/merges/${id}`)).body;
    return (body.status === 'succeeded' || body.status === 'failed') && body;
  });
  expect(merge).toMatchObject({ status: 'succeeded', succeeded: true });
  expect(merge.steps.find((s: any) => s.name === 'assignments').moved).toBe(ONLY_Z + SHARED);
  const held = await db.query<{ user_id: string; n: number; mandatory: number }>(
    `SELECT user_id, count(*)::int AS n, count(*) FILTER (WHERE option = 'mandatory')::int AS mandatory
     FROM assignment.course_assignments WHERE user_id = ANY($1::uuid[]) GROUP BY user_id`,
    [[u.z, u.a]],
  );
  expect(held.rows).toEqual([{ user_id: u.a, n: ONLY_Z + SHARED, mandatory: SHARED }]);
  expect((await db.query('SELECT 1 FROM identity.users WHERE id = $1', [u.z])).rowCount).toBe(0);
  for (const [schema, step] of [
    ['assignment', 'assignments'],
    ['identity', 'memberships'],
    ['identity', 'delete-user'],
  ]) {
    const keys = await db.query(`SELECT count(*)::int AS n FROM ${schema}.kit_batches WHERE idempotency_key = $1`, [`merge:${id}:${step}`]);
    expect(keys.rows[0].n).toBe(1);
  }
  await stack.assignment.flushEvents();
  const removed = (await readStream(stack.assignment.bus, 'ASSIGNMENT', fromSeq)).filter(
    (e) => e.subject === 'assignment.course.removed.v1' && (e.data as any).assignment.userId === u.z,
  );
  expect(removed).toHaveLength(ONLY_Z + SHARED);
}

async function streamPosition(): Promise<number> {
  await stack.assignment.flushEvents();
  return (await stack.assignment.bus.jsm.streams.info('ASSIGNMENT')).state.last_seq + 1;
}

it('finishes a merge whose gateway is killed mid-saga once another gateway starts; both or neither user never hold the data', async () => {
  const u = await twoUsers('kill-gateway');
  const from = await streamPosition();
  const env = { ...stack.gatewayEnv, GATEWAY_RUN_CONCURRENCY: '2', GATEWAY_RUN_LEASE_SECONDS: '2', GATEWAY_RUN_POLL_MS: '50' };
  let gateway: GatewayProcess | undefined = await startGatewayProcess(env);
  const stop = watch(u);
  try {
    const id = await startMerge(u);
    // Killed as soon as it has claimed the merge: its steps are under way.
    await until('the merge to be claimed', async () => (await mergeRow(id)).status === 'running');
    await gateway.kill();
    gateway = undefined;
    const orphan = await mergeRow(id);
    expect(orphan).toMatchObject({ status: 'running' });
    expect(orphan.next_step).toBeLessThanOrEqual(4);
    // Mid-saga: the user to delete is still there.
    expect((await db.query('SELECT 1 FROM identity.users WHERE id = $1', [u.z])).rowCount).toBe(1);

    gateway = await startGatewayProcess(env);
    await expectMergedOnce(id, u, from);
  } finally {
    const watched = await stop();
    await gateway?.stop();
    expect(watched.violations).toEqual([]);
    expect(watched.seen).toContain('- courses:0/3000 list:0/1');
  }
}, 90_000);

it('finishes a merge whose assignment service is killed mid-saga and started again; both or neither user never hold the data', async () => {
  const u = await twoUsers('kill-assignment');
  const from = await streamPosition();
  const service = await startAssignmentProcess({
    nats: stack.nats,
    pg: stack.fixture.pg,
    identityAddress: stack.identity.address,
    catalogAddress: stack.catalog.address,
  });
  let worker: RunningGateway | undefined;
  const stop = watch(u);
  try {
    worker = await startGateway({
      logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: { ...stack.gatewayEnv, ASSIGNMENT_ADDRESS: service.address, GATEWAY_RUN_CONCURRENCY: '2', GATEWAY_RUN_POLL_MS: '50' },
    });
    const id = await startMerge(u);
    await until('the merge to be claimed', async () => (await mergeRow(id)).status === 'running');
    await service.kill('SIGKILL');

    // The merge waits for the service, the user not deleted meanwhile.
    const waiting = await until('the merge to wait for the assignment service', async () => {
      const body = (await stack.http('GET', `/v1/merges/${id}`)).body;
      return body.waitingFor && body;
    });
    expect(waiting.waitingFor).toMatch(/^assignment: /);
    expect(waiting.status).toBe('pending');
    expect((await db.query('SELECT 1 FROM identity.users WHERE id = $1', [u.z])).rowCount).toBe(1);

    await service.restart();
    await expectMergedOnce(id, u, from);
  } finally {
    const watched = await stop();
    await worker?.stop();
    await service.stop();
    expect(watched.violations).toEqual([]);
    expect(watched.seen).toContain('Z courses:3000/0 list:1/0');
  }
}, 90_000);
