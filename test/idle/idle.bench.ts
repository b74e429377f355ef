/**
 * bench:idle — what the suite costs when nobody uses it: every part in its own process (as
 * `npm start` runs them, the notification service with an SMTP server) on the real
 * PostgreSQL server (a database of its own, dropped at the end) and a nats-server of its own,
 * no request and no event. After BENCH_SETTLE_SECONDS (15) it measures the CPU of every
 * process for BENCH_SECONDS (60) (/proc/<pid>/stat: the parts, nats-server, the PostgreSQL
 * backends of the bench's database).
 *
 *   npm run bench:idle
 *   npm run build && BENCH_COMPILED=1 npm run bench:idle   # the compiled parts, as containers run them
 *
 * Why it matters: every replica runs this all day (two of each part and an autoscaler's
 * minimum on Kubernetes), and a suite at work has that much less CPU for its work (case c of
 * bench:import, whose hashes get what every other process leaves). What an idle part does:
 * its outbox relay's and workers' polls, its consumers' pulls, its timers (metrics, leases),
 * their garbage.
 *
 * Ends with `RESULT idle_cpu_<part> <ms of CPU a second> ms/s target <= 5 met|missed` for
 * each part (half a percent of a core), and the whole suite's with PostgreSQL and nats-server
 * (target <= 50 ms/s: 5 % of a core). Results go in BENCHMARKS.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { cpuLines, createTestDatabase, startNats, startSmtpSink, startSuiteProcesses, watchCpu } from '@assistants/testing';

const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 15);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const COMPILED = process.env.BENCH_COMPILED === '1';
const TARGET_PART_MS = 5;
const TARGET_SUITE_MS = 50;

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  log(`bench:idle — ${os.cpus().length} × ${os.cpus()[0]?.model}, ${new Date().toISOString()}`);
  log(`  parts: ${COMPILED ? 'compiled (plain node)' : 'run with tsx'}; ${SETTLE_SECONDS} s to settle, ${SECONDS} s measured`);
  const [nats, database, smtp] = await Promise.all([startNats(), createTestDatabase('bench_idle'), startSmtpSink()]);
  try {
    const suite = await startSuiteProcesses({ natsUrl: nats.url, databaseUrl: database.url, smtpPort: smtp.port, compiled: COMPILED });
    try {
      await sleep(SETTLE_SECONDS * 1000);
      const cpu = await watchCpu(suite);
      await sleep(SECONDS * 1000);
      const usage = await cpu.stop();
      const parts = new Set(suite.processes.map((p) => p.name));
      const msPerSecond = (seconds: number) => (seconds * 1000) / usage.wallSeconds;
      for (const line of cpuLines(usage, usage.wallSeconds, 'second')) log(`  ${line}`);
      const results: string[] = [];
      for (const row of usage.rows.filter((r) => parts.has(r.name))) {
        const ms = msPerSecond(row.seconds);
        results.push(
          `RESULT idle_cpu_${row.name} ${ms.toFixed(1)} ms/s target <= ${TARGET_PART_MS} ${ms <= TARGET_PART_MS ? 'met' : 'missed'}`,
        );
      }
      // The bench's own processes (itself, tsx's esbuild) are not the suite's.
      const ofSuite = usage.rows.filter((r) => parts.has(r.name) || r.name === 'PostgreSQL' || r.name === 'nats-server');
      const suiteMs = msPerSecond(ofSuite.reduce((sum, r) => sum + r.seconds, 0));
      results.push(
        `RESULT idle_cpu_suite ${suiteMs.toFixed(1)} ms/s target <= ${TARGET_SUITE_MS} ${suiteMs <= TARGET_SUITE_MS ? 'met' : 'missed'} (every part, PostgreSQL and nats-server)`,
      );
      for (const line of results) log(line);
    } finally {
      await suite.stop();
    }
  } finally {
    await Promise.all([nats.stop(), database.drop(), smtp.stop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
