/**
 * bench:import — I2 user imports through the gateway's real HTTP routes, every part of the
 * suite in its own process (as `npm start` runs them) on the real PostgreSQL server (a
 * database of its own, dropped at the end) and a nats-server of its own.
 *
 *   npm run bench:import                       # every case (c, a and b, d, e)
 *   BENCH_CASES=a,e npm run bench:import       # some of them (a includes b; b alone: BENCH_CASES=b)
 *   BENCH_USERS=20000 BENCH_CREATE_ROWS=2000 BENCH_BIG_ROWS=100000 npm run bench:import   # smaller
 *   npm run build && BENCH_COMPILED=1 npm run bench:import   # the compiled parts, as containers run them
 *   BENCH_KEEP_DATABASE=1 npm run bench:import   # the database is not dropped (EXPLAIN its queries)
 *
 * Each case writes its file (all 37 I2 columns, streamed to a temporary file), uploads it with
 * POST /v1/imports/kinds/users/uploads (multipart, streamed from the disk), starts the job
 * with POST /v1/imports and polls GET /v1/imports/:id every 500 ms (as `npm run import` does). Rows/s = data rows / wall
 * time from the start of the upload to the job completed. The resident memory of every suite
 * process is read every 250 ms (/proc/<pid>/status VmRSS; its peak is reset between cases).
 * Each case ends with lines `RESULT <name> <value> <unit> target <op> <value> met|missed`.
 *
 * - c: creating users with passwords from the file (a file of BENCH_CREATE_ROWS rows: at
 *   ~100–200 argon2id hashes/s on 2 cores, 100,000 would take ~10 minutes), against the ceiling
 *   measured in the same run: argon2id with identity's settings, as many hashes at once as
 *   cores. Target: import rows/s >= 90 % of the ceiling.
 * - a: BENCH_USERS existing users (seeded by SQL, then brought to the file's values by an
 *   untimed import), a file changing some columns of every one, updatePasswords=false.
 *   Target >= 15,000 rows/s.
 * - b: the same file again: every row unchanged, nothing written, no event. Target >= 30,000 rows/s.
 * - e: I3 course assignments (assignments.case.ts, BENCH_ASSIGNMENT_ROWS, default 250,000).
 * - d: BENCH_BIG_ROWS (1,000,000) existing users, a file of all 37 columns updating every one:
 *   peak RSS of every process < 200 MB, and flat (the peak after the first quarter of the rows
 *   within 32 MiB of the first quarter's).
 *
 * A case is a function (bench) => RESULT lines, one entry of CASES.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createWriteStream, mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import pg from 'pg';
import { hash } from '@node-rs/argon2';
import { courseAssignmentsCase } from './assignments.case';
import {
  ADMIN,
  basic,
  cpuLines,
  createTestDatabase,
  describeEventState,
  eventsSettled,
  startNats,
  startSuiteProcesses,
  waitEventsSettled,
  watchCpu,
  type CpuUsage,
  type SuiteProcesses,
} from '@assistants/testing';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const CREATE_ROWS = Number(process.env.BENCH_CREATE_ROWS ?? 5_000);
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000);
const ORGANISATIONS = 100;
const FLAT_MARGIN_MIB = 32;

const log = (message: string) => process.stdout.write(`${message}\n`);
const result = (name: string, value: number, unit: string, op: '>=' | '<', target: number, note = '') =>
  `RESULT ${name} ${Math.round(value)} ${unit} target ${op} ${target} ${(op === '>=' ? value >= target : value < target) ? 'met' : 'missed'}${note ? ` (${note})` : ''}`;

/** What a case gets: the running suite, its database, a scratch directory, and the import
 * of a file through the gateway with memory sampled. */
export interface Bench {
  suite: SuiteProcesses;
  databaseUrl: string;
  dir: string;
  /** Imports a file through the gateway; the time is from the upload start to the job done. */
  importFile(kind: string, path: string, options?: Record<string, string | boolean>): Promise<ImportRun>;
  /** Waits until the events of what came before are published and consumed (the statistics
   * projection of an earlier import), then vacuums as autovacuum would: a timed case does not
   * pay for the one before. */
  settle(what: string): Promise<void>;
  /** SQL on the suite's database (each service has its schema). */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
}

export interface ImportRun {
  seconds: number;
  uploadSeconds: number;
  jobSeconds: number;
  job: { id: string; status: string; counts: Record<string, number> };
  /** peak RSS of every process during the import, MiB */
  peakMiB: Record<string, number>;
  /** peak RSS during the first quarter of the rows, and after it, MiB */
  firstQuarterMiB: Record<string, number>;
  restMiB: Record<string, number>;
  /** the CPU of every process from the upload to the job completed */
  cpu: CpuUsage;
}

export type BenchCase = (bench: Bench) => Promise<string[]>;

/** The I2 header: all 37 columns. */
const HEADER = [
  'user_lname',
  'user_fname',
  'user_tname',
  'user_login',
  'user_password',
  'org_extid',
  'user_email',
  'user_extid',
  'user_disable',
  'user_culture',
  'birth_date',
  'user_activation_date',
  'user_expiration_date',
  'user_manager_extid',
  'user_alternate_manager_extid',
  'user_address1',
  'user_address2',
  'user_zip',
  'user_city',
  'user_country',
  'user_phone',
  'user_cellphone',
  'user_hourly_cost',
  ...Array.from({ length: 10 }, (_, i) => `user_udtf${i + 1}`),
  'user_audiences',
  'user_roles',
  'job_position_id',
  'List_name',
].join(';');

/** One user row; `version` changes city, phone and some free fields. The first user of each
 * group of 50 manages the others (it comes first: found in the same chunk). */
function userRow(prefix: string, i: number, version: number, password: string): string {
  const head = i - (i % 50);
  return [
    `N${i}`,
    'Bench',
    i % 2 ? 'Mme' : 'M.',
    `${prefix}${i}`,
    password,
    `O${i % ORGANISATIONS}`,
    `${prefix}${i}@x.fr`,
    `${prefix.toUpperCase()}E${i}`,
    '0',
    'fr-FR',
    '1990/04/23',
    '2024/01/01',
    '',
    i === head ? '' : `${prefix.toUpperCase()}E${head}`,
    '',
    `${i % 200} rue Vendôme`,
    '',
    '69003',
    version ? 'Villeurbanne' : 'Lyon',
    'France',
    `04${version}${i}`,
    '',
    '35.00',
    `v${version}`,
    'A',
    version ? `changed ${i}` : '',
    '',
    '',
    '',
    '',
    '',
    '',
    'Z',
    i % 10 === 0 ? 'Sales||Managers' : 'Sales',
    i % 1000 === 0 ? `Viewer:O${i % ORGANISATIONS}` : '',
    'SR',
    i % 1000 === 0 ? 'Newcomers' : '',
  ].join(';');
}

async function writeFile(path: string, rows: number, row: (i: number) => string): Promise<number> {
  const out = createWriteStream(path);
  out.write(`${HEADER}\r\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${row(i)}\r\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

/** Users as a file would create them, by SQL (a benchmark of updates measures those). */
async function seedUsers(bench: Bench, prefix: string, count: number): Promise<void> {
  const db = new pg.Client({ connectionString: bench.databaseUrl, options: '-c search_path=identity' });
  await db.connect();
  try {
    // Identity's own hash of one password: a user that may log in, like an imported one.
    const passwordHash = await hash('Seeded-pass-1234', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    for (let from = 0; from < count; from += 100_000) {
      await db.query(
        `INSERT INTO identity.users (login, ext_id, last_name, first_name, organisation_id, password_hash)
         SELECT $1 || i, upper($1) || 'E' || i, 'Seeded', 'Bench', o.id, $4
           FROM generate_series($2::int, $3::int) i JOIN identity.organisations o ON o.ext_id = 'O' || (i % ${ORGANISATIONS})`,
        [prefix, from, Math.min(count, from + 100_000) - 1, passwordHash],
      );
    }
    await db.query('ANALYZE identity.users');
  } finally {
    await db.end();
  }
}

function rate(name: string, rows: number, run: ImportRun, target: number, what: string): string[] {
  const rowsPerSecond = rows / run.seconds;
  log(
    `  ${name}: ${rows} rows in ${run.seconds.toFixed(1)} s (upload ${run.uploadSeconds.toFixed(1)} s, job ${run.jobSeconds.toFixed(1)} s), counts ${JSON.stringify(run.job.counts)}`,
  );
  log(
    `  ${name}: peak RSS ${Object.entries(run.peakMiB)
      .map(([p, m]) => `${p} ${m}`)
      .join(', ')} MiB`,
  );
  for (const line of cpuLines(run.cpu, rows, 'row', 'µs')) log(`  ${name}: ${line}`);
  return [result(name, rowsPerSecond, 'rows/s', '>=', target, what)];
}

function expectCounts(run: ImportRun, expected: Record<string, number>): void {
  for (const [k, v] of Object.entries(expected)) {
    if (run.job.counts[k] !== v) throw new Error(`expected ${k} ${v}, got ${JSON.stringify(run.job.counts)}`);
  }
}

/** c: creating users with passwords, against the argon2id ceiling of this machine. */
export const createCase: BenchCase = async (bench) => {
  const cores = os.availableParallelism();
  // The ceiling: identity's settings (passwords.ts), `cores` hashes at a time, for ~5 s,
  // measured just before the import and just after it: this virtual machine's speed drifts
  // within minutes (58 to 248 hashes/s over one day), and the mean of both is the ceiling of
  // the import's own minutes.
  const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const measureCeiling = async () => {
    let hashes = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: cores }, async (_, w) => {
        while (performance.now() - started < 5000) {
          await hash(`Ceiling-pass-${w}-${hashes}`, options);
          hashes++;
        }
      }),
    );
    return hashes / ((performance.now() - started) / 1000);
  };
  const path = join(bench.dir, 'create.csv');
  await writeFile(path, CREATE_ROWS, (i) => userRow('c', i, 0, `Bench-pass-${i}-x`));
  const before = await measureCeiling();
  const run = await bench.importFile('users', path, {});
  const after = await measureCeiling();
  expectCounts(run, { added: CREATE_ROWS, rejected: 0 });
  const ceiling = (before + after) / 2;
  log(
    `  c: argon2id (m=19456 KiB, t=2, p=1) alone, ${cores} at a time: ${before.toFixed(1)} hashes/s before the import, ` +
      `${after.toFixed(1)} after, ${ceiling.toFixed(1)} the mean`,
  );
  return rate(
    'import_create_rate',
    CREATE_ROWS,
    run,
    Math.round(ceiling * 0.9),
    `90 % of ${ceiling.toFixed(0)} hashes/s; ${CREATE_ROWS} rows`,
  );
};

/** a, b: updating changed users, then the same file unchanged; b alone (BENCH_CASES=b): the
 * file that brought the users to its values, again. BENCH_B_RUNS=N times b N times in a row
 * (the RESULT is the first; the others are printed: for before/after comparisons). */
const updateCases =
  (withA: boolean): BenchCase =>
  async (bench) => {
    await seedUsers(bench, 'u', USERS);
    const base = join(bench.dir, 'base.csv');
    await writeFile(base, USERS, (i) => userRow('u', i, 0, ''));
    const warm = await bench.importFile('users', base, { updatePasswords: false });
    expectCounts(warm, { updated: USERS, rejected: 0 });
    log(`  (untimed) ${USERS} seeded users brought to the file's values in ${warm.seconds.toFixed(1)} s`);
    let unchangedFile = base;
    const results: string[] = [];
    if (withA) {
      rmSync(base);
      unchangedFile = join(bench.dir, 'changed.csv');
      await writeFile(unchangedFile, USERS, (i) => userRow('u', i, 1, ''));
      await bench.settle('the untimed import');
      const a = await bench.importFile('users', unchangedFile, { updatePasswords: false });
      expectCounts(a, { updated: USERS, rejected: 0 });
      results.push(...rate('import_update_rate', USERS, a, 15_000, 'every row changed, updatePasswords=false'));
    }
    await bench.settle(withA ? 'a' : 'the untimed import');
    const runs = Number(process.env.BENCH_B_RUNS ?? 1);
    for (let n = 1; n <= runs; n++) {
      const b = await bench.importFile('users', unchangedFile, { updatePasswords: false });
      expectCounts(b, { unchanged: USERS, rejected: 0 });
      if (n === 1) results.push(...rate('import_unchanged_rate', USERS, b, 30_000, 'every row unchanged'));
      else
        log(
          `  import_unchanged_rate run ${n}: ${Math.round(USERS / b.seconds)} rows/s (upload ${b.uploadSeconds.toFixed(1)} s, job ${b.jobSeconds.toFixed(1)} s)`,
        );
    }
    return results;
  };

/** d: a big file: the memory of every process stays bounded and flat. */
export const bigFileCase: BenchCase = async (bench) => {
  const seeding = performance.now();
  await seedUsers(bench, 'd', BIG_ROWS);
  log(`  d: ${BIG_ROWS} users seeded by SQL in ${((performance.now() - seeding) / 1000).toFixed(0)} s`);
  const path = join(bench.dir, 'big.csv');
  await writeFile(path, BIG_ROWS, (i) => userRow('d', i, 1, ''));
  const run = await bench.importFile('users', path, { updatePasswords: false });
  rmSync(path);
  expectCounts(run, { updated: BIG_ROWS, rejected: 0 });
  const lines = rate('import_big_rate', BIG_ROWS, run, 15_000, 'update of every row');
  const peak = Math.max(...Object.values(run.peakMiB));
  for (const [name, mib] of Object.entries(run.peakMiB)) {
    const flat = run.restMiB[name] <= run.firstQuarterMiB[name] + FLAT_MARGIN_MIB;
    log(
      `  d: ${name}: peak ${mib} MiB, first quarter ${run.firstQuarterMiB[name]} MiB, after ${run.restMiB[name]} MiB: ${flat ? 'flat' : 'GROWS'}`,
    );
    lines.push(result(`import_big_peak_rss_${name}`, mib, 'MiB', '<', 200, flat ? 'flat' : 'grows'));
  }
  const allFlat = Object.keys(run.peakMiB).every((n) => run.restMiB[n] <= run.firstQuarterMiB[n] + FLAT_MARGIN_MIB);
  lines.push(result('import_big_peak_rss_max', peak, 'MiB', '<', 200, allFlat ? 'every process flat' : 'a process grows'));
  return lines;
};

const CASES: Record<string, BenchCase> = {
  c: createCase,
  a: updateCases(true),
  b: updateCases(false),
  d: bigFileCase,
  e: (bench) =>
    courseAssignmentsCase(bench.suite, { rows: process.env.BENCH_ASSIGNMENT_ROWS ? Number(process.env.BENCH_ASSIGNMENT_ROWS) : undefined }),
};

async function setUp(bench: Bench): Promise<void> {
  // The organisations through an I1 import, the audiences, the role and the list through the API.
  const path = join(bench.dir, 'organisations.csv');
  writeFileSync(
    path,
    ['org_label;org_extid;parent_extid', ...Array.from({ length: ORGANISATIONS }, (_, i) => `Organisation ${i};O${i};`)].join('\r\n'),
  );
  const run = await bench.importFile('organisations', path);
  expectCounts(run, { added: ORGANISATIONS });
  for (const name of ['Sales', 'Managers']) await bench.suite.call('POST', '/v1/audiences', { name });
  await bench.suite.call('POST', '/v1/roles', { name: 'Viewer', permissions: ['users:read'] });
  await bench.suite.call('POST', '/v1/lists', { name: 'Newcomers', type: 'static' });
}

async function main(): Promise<void> {
  const listed = (process.env.BENCH_CASES ?? 'c,a,d,e').split(',');
  // a includes b (the same file again)
  const chosen = listed.includes('a') ? listed.filter((c) => c !== 'b') : listed;
  log(`bench:import — I2 users, cases ${[...new Set(chosen)].join(', ')}, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_import')]);
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-import-'));
  let suite: SuiteProcesses | undefined;
  const results: string[] = [];
  try {
    // The processes' V8 heap bounded as a container's memory limit would bound it (without
    // one, V8 lets the heap grow long before it collects: see BENCHMARKS.md);
    // BENCH_NODE_ARGS="" runs them as npm start does.
    process.env.TEST_NODE_ARGS = process.env.BENCH_NODE_ARGS ?? '--max-old-space-size=128';
    log(`  suite processes' node options: ${process.env.TEST_NODE_ARGS || '(none)'}`);
    // BENCH_COMPILED=1 (after npm run build): the compiled parts with plain node, as containers
    // run them (no TypeScript loader in their memory).
    const compiled = process.env.BENCH_COMPILED === '1';
    log(`  parts: ${compiled ? 'compiled (plain node)' : 'run with tsx'}`);
    suite = await startSuiteProcesses({ natsUrl: nats.url, databaseUrl: database.url, compiled });
    const s = suite;
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    const bench: Bench = {
      suite: s,
      databaseUrl: database.url,
      dir,
      sql: async (text, values) => (await pool.query(text, values as unknown[])).rows,
      importFile: (kind, path, options = {}) => importThroughGateway(s, kind, path, options),
      settle: async (what) => {
        const started = performance.now();
        const state = await waitEventsSettled(database.url, nats.url, 600_000);
        if (!eventsSettled(state))
          throw new Error(`the events of ${what} did not settle in 10 minutes: ${describeEventState(state).join('; ')}`);
        log(`  (untimed) the events of ${what} settled ${((performance.now() - started) / 1000).toFixed(1)} s later`);
        // What autovacuum does on a server with PostgreSQL's default settings within a minute of
        // an import that rewrote 100,000 users (it is off on some machines, this one included:
        // the dead rows of the case before were then read again by every lookup of the next).
        // BENCH_VACUUM=0 leaves the tables as the case before left them.
        if (process.env.BENCH_VACUUM !== '0') {
          const vacuuming = performance.now();
          await pool.query('VACUUM ANALYZE');
          log(`  (untimed) VACUUM ANALYZE after ${what}: ${((performance.now() - vacuuming) / 1000).toFixed(1)} s`);
        }
      },
    };
    await setUp(bench);
    // What each process holds before the cases (its code, the transpiler, its caches).
    log(`  RSS after the set-up: ${s.processes.map((p) => `${p.name} ${p.memoryMiB()}`).join(', ')} MiB`);
    for (const name of new Set(chosen)) {
      const run = CASES[name];
      if (!run) throw new Error(`no case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
      log(`case ${name}:`);
      const lines = await run(bench);
      for (const line of lines) log(line);
      results.push(...lines);
    }
    await pool.end();
    log(
      `  load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    log('summary:');
    for (const line of results) log(line);
  } finally {
    await suite?.stop();
    rmSync(dir, { recursive: true, force: true });
    await nats.stop();
    // BENCH_KEEP_DATABASE=1: kept for EXPLAIN (drop it by hand after).
    if (process.env.BENCH_KEEP_DATABASE === '1') log(`  database kept for inspection: ${database.url}`);
    else await database.drop();
  }
}

/** Upload (multipart, streamed from the disk), start, poll every 500 ms as the command line
 * does (each poll is work for the gateway, the import service and the database, taken from
 * the import) while sampling the memory of every process every 250 ms. */
async function importThroughGateway(
  suite: SuiteProcesses,
  kind: string,
  path: string,
  options: Record<string, string | boolean>,
): Promise<ImportRun> {
  const peakMiB: Record<string, number> = {};
  const firstQuarterMiB: Record<string, number> = {};
  const restMiB: Record<string, number> = {};
  let fraction = 0;
  const sample = () => {
    for (const p of suite.processes) {
      const mib = p.memoryMiB();
      peakMiB[p.name] = Math.max(peakMiB[p.name] ?? 0, mib);
      const bucket = fraction < 0.25 ? firstQuarterMiB : restMiB;
      bucket[p.name] = Math.max(bucket[p.name] ?? 0, mib);
    }
  };
  const sampler = setInterval(sample, 250);
  const cpu = await watchCpu(suite);
  let usage: CpuUsage | undefined;
  try {
    const started = performance.now();
    const startedAt = Date.now();
    const form = new FormData();
    form.append('file', await openAsBlob(path), path.split('/').pop());
    const response = await fetch(`${suite.api}/v1/imports/kinds/${kind}/uploads`, {
      method: 'POST',
      headers: { authorization: basic(ADMIN.login, ADMIN.password) },
      body: form,
    });
    const upload = (await response.json()) as { uploadId: string; fileError?: unknown };
    if (!response.ok || upload.fileError) throw new Error(`upload: ${response.status} ${JSON.stringify(upload)}`);
    const uploadSeconds = (performance.now() - started) / 1000;
    let job = await suite.call('POST', '/v1/imports', { uploadId: upload.uploadId, options });
    let reported = performance.now();
    while (job.status === 'queued' || job.status === 'running') {
      await sleep(500);
      job = await suite.call('GET', `/v1/imports/${job.id}`);
      fraction = job.fileSize > 0 ? job.bytesRead / job.fileSize : 0;
      // A long import says where it is once a minute (a run stopped early still tells something).
      if (performance.now() - reported >= 60_000) {
        reported = performance.now();
        const now = suite.processes.map((p) => `${p.name} ${p.memoryMiB()}`).join(', ');
        log(`    ${new Date().toISOString().slice(11, 19)} ${(fraction * 100).toFixed(1)} % of the file, RSS ${now} MiB`);
      }
    }
    // Until the job's end as the import service recorded it (the same clock: every process
    // runs on this machine), not until the poll that saw it, up to 500 ms later.
    const seconds = (Date.parse(job.finishedAt) - startedAt) / 1000;
    usage = await cpu.stop();
    sample();
    if (job.status !== 'completed') throw new Error(`import ${job.status}: ${JSON.stringify(job)}`);
    // Where the time went: the upload (with its preview), the job from its start to its end.
    const jobSeconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000;
    return { seconds, uploadSeconds, jobSeconds, job, peakMiB, firstQuarterMiB, restMiB, cpu: usage };
  } finally {
    clearInterval(sampler);
    if (!usage) await cpu.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
