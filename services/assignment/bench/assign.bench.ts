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
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import pg from 'pg';
import { ADMIN, basic, createTestDatabase, seedBenchUsers, startNats, startSuiteProcesses, type SuiteProcesses } from '@assistants/testing';

const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const COURSES = 5;
const TARGET_SECONDS = 20;
const TARGET_RATE = 12_500;
const MARK = 'benchassign';

const log = (message: string) => process.stdout.write(`${message}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  log(`bench:assign — U7, ${USERS} users × ${COURSES} courses, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_assign')]);
  let suite: SuiteProcesses | undefined;
  try {
    const concurrency = process.env.GATEWAY_RUN_CONCURRENCY;
    suite = await startSuiteProcesses({
      natsUrl: nats.url,
      databaseUrl: database.url,
      gatewayEnv: concurrency ? { GATEWAY_RUN_CONCURRENCY: concurrency } : {},
    });
    const { api, call, processes } = suite;
    const auth = basic(ADMIN.login, ADMIN.password);
    const seeding = performance.now();
    await seedBenchUsers(database.url, USERS, MARK);
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
    await suite?.stop();
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
