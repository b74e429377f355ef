/**
 * The course-assignment import case alone (bench:import runs it with the other cases):
 *
 *   npx tsx services/import/bench/assignments.bench.ts [rows]
 *
 * Starts every part of the suite in its own process on the real PostgreSQL server and a real
 * nats-server, runs the case, prints its RESULT line and stops everything.
 */
import os from 'node:os';
import { createTestDatabase, startNats, startSuiteProcesses, type SuiteProcesses } from '@assistants/testing';
import { courseAssignmentsCase } from './assignments.case';

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 250_000);
  process.stdout.write(`import-course-assignments — ${rows} rows, ${os.cpus().length} × ${os.cpus()[0]?.model}\n`);
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_import_assignments')]);
  let suite: SuiteProcesses | undefined;
  try {
    suite = await startSuiteProcesses({ natsUrl: nats.url, databaseUrl: database.url });
    for (const line of await courseAssignmentsCase(suite, { rows })) process.stdout.write(`${line}\n`);
    for (const p of suite.processes) process.stdout.write(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB\n`);
  } finally {
    await suite?.stop();
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
