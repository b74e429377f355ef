/**
 * bench:merge — M1 (user merge): a user with 1,000 course assignments merged into another
 * (who already has 100 of the same courses, with other dates and option), end to end through
 * the gateway's HTTP API and merge saga, every part of the suite in its own process (as
 * `npm start` runs them) on the real PostgreSQL server and a real nats-server.
 *
 *   npm run bench:merge
 *
 * Timed: from POST /v1/merges (each step first checked as a dry run in that request) until
 * GET /v1/merges/{id} answers succeeded — assignments moved, list memberships moved, the
 * user deleted. Done for BENCH_MERGES pairs (3 by default); the target is on the slowest.
 * Ends with: RESULT merge_time <ms> ms target <= 1000 met|missed. Results go in BENCHMARKS.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import pg from 'pg';
import { createTestDatabase, startNats, startSuiteProcesses, type SuiteProcesses } from '@assistants/testing';

const COURSES = Number(process.env.BENCH_COURSES ?? 1000);
const SHARED = Math.min(100, COURSES);
const MERGES = Number(process.env.BENCH_MERGES ?? 3);
const TARGET_MS = 1000;

const log = (message: string) => process.stdout.write(`${message}\n`);

async function main(): Promise<void> {
  log(`bench:merge — M1, a user with ${COURSES} course assignments, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_merge')]);
  let suite: SuiteProcesses | undefined;
  try {
    suite = await startSuiteProcesses({ natsUrl: nats.url, databaseUrl: database.url });
    const { call } = suite;
    const seeding = performance.now();
    const root = (await call('GET', '/v1/organisations')).items[0].id;
    const courseIds: string[] = [];
    for (let n = 1; n <= COURSES; n++) {
      courseIds.push((await call('POST', '/v1/courses', { code: `MERGE-${n}`, name: `Merge course ${n}` })).id);
    }
    const runToEnd = async (body: unknown) => {
      let run = await call('POST', '/v1/runs', body);
      while (run.status !== 'completed') {
        await sleep(50);
        run = await call('GET', `/v1/runs/${run.id}`);
      }
      if (run.failed > 0) throw new Error(`run ${run.id}: ${run.failed} failed`);
    };
    const pairs: { z: string; a: string }[] = [];
    for (let i = 1; i <= MERGES; i++) {
      const user = async (login: string) =>
        (await call('POST', '/v1/users', { login, lastName: login, firstName: 'B', organisationId: root })).id;
      const pair = { z: await user(`merge-z-${i}`), a: await user(`merge-a-${i}`) };
      // U7 takes at most 500 courses a run.
      for (let from = 0; from < COURSES; from += 500) {
        await runToEnd({
          assistant: 'users',
          action: 'U7',
          selection: { type: 'ids', ids: [pair.z] },
          params: { courseIds: courseIds.slice(from, from + 500), option: 'recommended', startDate: '2027-01-04', endDate: '2027-06-30' },
        });
      }
      await runToEnd({
        assistant: 'users',
        action: 'U7',
        selection: { type: 'ids', ids: [pair.a] },
        params: { courseIds: courseIds.slice(0, SHARED), option: 'mandatory', startDate: '2027-02-01', endDate: '2027-12-31' },
      });
      await call('POST', '/v1/lists', { name: `merge list ${i}`, type: 'static', memberIds: [pair.z] });
      pairs.push(pair);
    }
    log(`  seeded ${COURSES} courses and ${MERGES} pairs of users in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

    const gateway = new pg.Client({ connectionString: database.url });
    await gateway.connect();
    /** When each step ended, from the merge's creation (the POST's dry runs before that). */
    const stepTimes = async (id: string) => {
      const { rows } = await gateway.query<{ name: string; ms: number }>(
        `SELECT s.name, round(extract(epoch FROM s.finished_at - m.created_at) * 1000)::int AS ms
         FROM gateway.merge_steps s JOIN gateway.merges m ON m.id = s.merge_id WHERE m.id = $1 ORDER BY s.step_no`,
        [id],
      );
      return rows.map((r) => `${r.name} +${r.ms}`).join(', ');
    };
    const times: number[] = [];
    for (const [i, pair] of pairs.entries()) {
      const dryStarted = performance.now();
      const dry = await call('POST', '/v1/merges', { deleteUserId: pair.z, keepUserId: pair.a, dryRun: true });
      const dryMs = performance.now() - dryStarted;
      const started = performance.now();
      let merge = await call('POST', '/v1/merges', { deleteUserId: pair.z, keepUserId: pair.a });
      while (merge.status !== 'succeeded') {
        if (merge.status === 'failed') throw new Error(`merge ${merge.id} failed: ${JSON.stringify(merge.error)}`);
        // Every 20 ms: polling harder would take CPU from the merge itself (2 cores).
        await sleep(20);
        merge = await call('GET', `/v1/merges/${merge.id}`);
      }
      const ms = performance.now() - started;
      times.push(ms);
      const moved = merge.steps.map((s: { name: string; status: string; moved: number }) => `${s.name} ${s.status} ${s.moved}`).join(', ');
      const wouldMove = dry.steps.find((s: { name: string }) => s.name === 'assignments').moved;
      log(`  merge ${i + 1}: ${Math.round(ms)} ms (${moved}); its dry run ${Math.round(dryMs)} ms, ${wouldMove} would move`);
      log(`    steps ended (ms after the merge was stored): ${await stepTimes(merge.id)}`);
      if (merge.steps.find((s: { name: string }) => s.name === 'assignments').moved !== COURSES) {
        throw new Error(`expected ${COURSES} course assignments moved`);
      }
    }
    await gateway.end();
    for (const p of suite.processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);
    const worst = Math.round(Math.max(...times));
    log(`RESULT merge_time ${worst} ms target <= ${TARGET_MS} ${worst <= TARGET_MS ? 'met' : 'missed'}`);
  } finally {
    await suite?.stop();
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
