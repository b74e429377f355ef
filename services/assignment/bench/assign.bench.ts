/**
 * bench:assign — U7 (assign courses) for 50,000 selected users and 5 courses: 250,000
 * assignments, end to end through the gateway's HTTP API and run engine, every part of the
 * suite in its own process (as `npm start` runs them) on the real PostgreSQL server and a
 * real nats-server.
 *
 *   npm run bench:assign
 *
 * Timed: from POST /v1/runs (the selection is resolved and frozen in that request) until
 * the run is completed and its 250,000 results are downloaded as CSV. Reported after: the
 * time the assignment service's outbox took to publish its events, and the peak memory of
 * every process. It ends with one line per target:
 * RESULT <name> <value> <unit> target <op> <bar> met|missed. Results go in BENCHMARKS.md.
 */
import os from 'node:os';
import pg from 'pg';
import { ADMIN, basic, createTestDatabase, freePort, startNats, startProcess, TEST_SECURITY, type TestProcess } from '@assistants/testing';

const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const COURSES = 5;
const TARGET_SECONDS = 20;
const TARGET_RATE = 12_500;
const MARK = 'benchassign';

const log = (message: string) => process.stdout.write(`${message}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  log(`bench:assign — U7, ${USERS} users × ${COURSES} courses, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_assign')]);
  const processes: TestProcess[] = [];
  try {
    const ports = { identity: await freePort(), catalog: await freePort(), assignment: await freePort(), gateway: await freePort() };
    const address = (name: keyof typeof ports) => `127.0.0.1:${ports[name]}`;
    const common = { ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken, NATS_URL: nats.url, LOG_LEVEL: 'warn' };
    const start = async (name: string, entry: string, env: Record<string, string>, ready: { grpc: string } | { http: string }) => {
      const started = await startProcess({ name, entry, env: { ...common, ...env }, ready, readyTimeoutMs: 60_000 });
      processes.push(started);
      return started;
    };
    await start(
      'identity',
      'services/identity/src/main.ts',
      {
        IDENTITY_GRPC_PORT: String(ports.identity),
        IDENTITY_DATABASE_URL: database.url,
        IDENTITY_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login,
        IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      },
      { grpc: address('identity') },
    );
    await start(
      'catalog',
      'services/catalog/src/main.ts',
      { CATALOG_GRPC_PORT: String(ports.catalog), CATALOG_DATABASE_URL: database.url, IDENTITY_ADDRESS: address('identity') },
      { grpc: address('catalog') },
    );
    await start(
      'assignment',
      'services/assignment/src/main.ts',
      {
        ASSIGNMENT_GRPC_PORT: String(ports.assignment),
        ASSIGNMENT_DATABASE_URL: database.url,
        IDENTITY_ADDRESS: address('identity'),
        CATALOG_ADDRESS: address('catalog'),
      },
      { grpc: address('assignment') },
    );
    const healthPort = await freePort();
    await start(
      'gateway',
      'gateway/src/main.ts',
      {
        GATEWAY_PORT: String(ports.gateway),
        GATEWAY_HEALTH_PORT: String(healthPort),
        GATEWAY_DATABASE_URL: database.url,
        IDENTITY_ADDRESS: address('identity'),
        CATALOG_ADDRESS: address('catalog'),
        ASSIGNMENT_ADDRESS: address('assignment'),
        GATEWAY_RATE_LIMIT_PER_MINUTE: '100000',
        ...(process.env.GATEWAY_RUN_CONCURRENCY ? { GATEWAY_RUN_CONCURRENCY: process.env.GATEWAY_RUN_CONCURRENCY } : {}),
      },
      // /healthz: the bench runs no notification service (U7 without notify), so /readyz,
      // which checks every service the gateway calls, would never answer ready.
      { http: `http://127.0.0.1:${healthPort}/healthz` },
    );
    const api = `http://127.0.0.1:${ports.gateway}`;
    const auth = basic(ADMIN.login, ADMIN.password);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };

    const seeding = performance.now();
    // identity's triggers name their tables unqualified, as identity's own connections do.
    const db = new pg.Client({ connectionString: database.url, options: '-c search_path=identity' });
    await db.connect();
    try {
      // Users are loaded by SQL (the bench measures assigning, not creating users); identity's
      // triggers keep its search projection as for any insert.
      await db.query(
        `INSERT INTO identity.users (login, last_name, first_name, email, language, organisation_id, custom1)
         SELECT 'bench.' || i, 'Learner ' || i, 'Bench', 'bench.' || i || '@example.com', 'fr-FR', o.id, $2
         FROM generate_series(1, $1::int) i, (SELECT id FROM identity.organisations WHERE parent_id IS NULL) o`,
        [USERS, MARK],
      );
      await db.query('ANALYZE identity.users');
    } finally {
      await db.end();
    }
    const courseIds: string[] = [];
    for (let n = 1; n <= COURSES; n++) {
      const course = await call('POST', '/v1/courses', {
        code: `BENCH-${n}`,
        name: `Benchmark course ${n}`,
        lessons: [{ code: `BENCH-${n}-L1`, name: 'Lesson 1', type: 'L' }],
      });
      courseIds.push(course.id);
    }
    log(`  seeded ${USERS} users and ${COURSES} courses in ${seconds(seeding)}`);

    const started = performance.now();
    const run = await call('POST', '/v1/runs', {
      assistant: 'users',
      action: 'U7',
      selection: { type: 'filter', filter: { custom1: MARK } },
      params: { courseIds, startDate: '2027-01-04', objectiveDate: '2027-03-01', endDate: '2027-06-30', option: 'mandatory' },
    });
    const frozenMs = performance.now() - started;
    log(`  run ${run.id}: ${run.total} users frozen in ${(frozenMs / 1000).toFixed(1)} s`);
    let progress = run;
    while (progress.status !== 'completed') {
      if (progress.status === 'cancelled') throw new Error('the run was cancelled');
      await sleep(250);
      progress = await call('GET', `/v1/runs/${run.id}`);
    }
    const csv = await fetch(`${api}/v1/runs/${run.id}/results.csv`, { headers: { authorization: auth } });
    let lines = 0;
    for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 10) lines++;
    }
    const elapsedS = (performance.now() - started) / 1000;
    const results = lines - 1;
    log(
      `  completed in ${elapsedS.toFixed(1)} s: ${progress.succeeded} succeeded, ${progress.unchanged} unchanged, ${progress.failed} failed`,
    );
    log(`  results.csv: ${results} rows`);
    if (progress.succeeded !== USERS * COURSES || results !== USERS * COURSES) {
      throw new Error(`expected ${USERS * COURSES} assignments and results, got ${progress.succeeded} and ${results}`);
    }

    // The events are published after the commits, by the assignment service's relay.
    const relay = performance.now();
    const check = new pg.Client({ connectionString: database.url });
    await check.connect();
    try {
      const { rows } = await check.query<{ n: number }>('SELECT count(*)::int AS n FROM assignment.course_assignments');
      if (rows[0]!.n !== USERS * COURSES) throw new Error(`${rows[0]!.n} assignment rows, expected ${USERS * COURSES}`);
      for (;;) {
        const pending = await check.query<{ n: number }>('SELECT count(*)::int AS n FROM assignment.kit_outbox');
        if (pending.rows[0]!.n === 0) break;
        await sleep(250);
      }
    } finally {
      await check.end();
    }
    log(`  events published ${seconds(relay)} after the run ended`);
    for (const p of processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);

    const rate = (USERS * COURSES) / elapsedS;
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    log(
      `RESULT assign_${USERS * COURSES}_seconds ${elapsedS.toFixed(1)} s target <= ${TARGET_SECONDS} ${verdict(elapsedS <= TARGET_SECONDS)}`,
    );
    log(`RESULT assign_rate ${Math.round(rate)} assignments/s target >= ${TARGET_RATE} ${verdict(rate >= TARGET_RATE)}`);
  } finally {
    for (const p of processes.reverse()) await p.stop().catch(() => {});
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
