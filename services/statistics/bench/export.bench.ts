/**
 * bench:export — X1, the CSV export: 1,000,000 rows (25,000 users × 10 courses × 4 lessons,
 * with user, course and lesson columns), every part of the suite in its own process (as
 * `npm start` runs them) on the real PostgreSQL server and a real nats-server.
 *
 *   npm run bench:export
 *
 * The statistics service's projections (users, organisation, courses, lessons, assignments,
 * course and lesson progress) are seeded directly by SQL in its schema: a million rows
 * through identity, the catalogue and the assignment events would take minutes and measure
 * those, not the export. Timed: from POST /v1/exports until the job is done (the query, the
 * CSV and the chunks stored in PostgreSQL); then the file is downloaded through the gateway
 * and its lines counted. Reported: rows/s, and the peak RSS of the statistics service
 * (VmHWM); memory is flat when its RSS after the first quarter of the rows stays within a
 * small margin of the first quarter's (a leak or a file held in memory grows with the rows). It ends
 * with RESULT <name> <value> <unit> target <op> <bar> met|missed. Results go in BENCHMARKS.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import pg from 'pg';
import { ROOT_ORGANISATION_ID } from '@assistants/kit';
import { ADMIN, basic, createTestDatabase, startNats, startSuiteProcesses, type SuiteProcesses } from '@assistants/testing';

const USERS = Number(process.env.BENCH_USERS ?? 25_000);
const COURSES = 10;
const LESSONS = 4;
const ROWS = USERS * COURSES * LESSONS;
const TARGET_RATE = 50_000;
/** "Flat": after the first quarter of the rows, the RSS grows by at most this much. */
const FLAT_MARGIN_MIB = 32;

const log = (message: string) => process.stdout.write(`${message}\n`);

async function seed(databaseUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=statistics' });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO organisations (id, ext_id, label, parent_id, path, version)
       VALUES ($1, 'ROOT', 'Root', NULL, ARRAY[$1::uuid], now()) ON CONFLICT (id) DO NOTHING`,
      [ROOT_ORGANISATION_ID],
    );
    await db.query(
      `INSERT INTO users (id, login, ext_id, last_name, first_name, email, language, activation_date, expiration_date, disabled,
                          organisation_id, city, country, custom, last_login_at, version)
       SELECT gen_random_uuid(), 'bench.' || i, 'EXT-' || i, 'Learner ' || i, 'Bench', 'bench.' || i || '@example.com', 'fr-FR',
              '2026-01-01', '', false, $2, 'Lyon', 'FR', ARRAY['=1+1', '', '', '', '', '', '', '', '', ''], '', now()
         FROM generate_series(1, $1::int) i`,
      [USERS, ROOT_ORGANISATION_ID],
    );
    await db.query(
      `INSERT INTO courses (id, code, name, external_training, version)
       SELECT gen_random_uuid(), 'BENCH-' || c, 'Benchmark course ' || c, false, now() FROM generate_series(1, $1::int) c`,
      [COURSES],
    );
    await db.query(
      `INSERT INTO lessons (id, course_id, code, name, type, position, optional)
       SELECT gen_random_uuid(), c.id, c.code || '-L' || l, 'Lesson ' || l, 'L', l, false FROM courses c, generate_series(1, $1::int) l`,
      [LESSONS],
    );
    await db.query(
      `INSERT INTO course_assignments (user_id, course_id, start_date, end_date, option, assigned_at, updated_at)
       SELECT u.id, c.id, '2027-01-04', '2027-06-30', 'mandatory', now(), now() FROM users u, courses c WHERE u.login LIKE 'bench.%'`,
    );
    // Half the learners started: a lesson completed, one browsed.
    await db.query(
      `INSERT INTO course_progress (user_id, course_id, status, status_date, time_spent_seconds)
       SELECT user_id, course_id, CASE WHEN random() < 0.5 THEN 'incomplete' ELSE 'not_started' END, now(), 600 FROM course_assignments`,
    );
    await db.query(
      `INSERT INTO lesson_progress (user_id, lesson_id, course_id, status, score, status_date, time_spent_seconds)
       SELECT p.user_id, l.id, l.course_id, CASE l.position WHEN 1 THEN 'completed' ELSE 'browsed' END,
              CASE l.position WHEN 1 THEN 80 END, now(), 300
         FROM course_progress p JOIN lessons l ON l.course_id = p.course_id AND l.position <= 2
        WHERE p.status = 'incomplete'`,
    );
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  log(
    `bench:export — X1, ${ROWS} rows (${USERS} users × ${COURSES} courses × ${LESSONS} lessons), ${os.cpus().length} × ${os.cpus()[0]?.model}`,
  );
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_export')]);
  let suite: SuiteProcesses | undefined;
  try {
    suite = await startSuiteProcesses({ natsUrl: nats.url, databaseUrl: database.url });
    const { api, call, processes } = suite;
    const statistics = processes.find((p) => p.name === 'statistics')!;
    const seeding = performance.now();
    await seed(database.url);
    log(`  seeded the projections by SQL in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
    const before = statistics.peakMemoryMiB();

    const started = performance.now();
    const job = await call('POST', '/v1/exports', {
      columns: [
        'user.lastName',
        'user.firstName',
        'user.login',
        'user.extId',
        'user.email',
        'user.organisation',
        'user.custom1',
        'course.code',
        'course.name',
        'course.status',
        'course.statusDate',
        'course.enrolmentDate',
        'course.startDate',
        'course.endDate',
        'course.option',
        'lesson.code',
        'lesson.name',
        'lesson.status',
        'lesson.statusDate',
        'lesson.score',
        'lesson.timeSpent',
      ],
      separator: ';',
      bom: true,
    });
    // The statistics process's resident memory while the rows are written: flat means the
    // last three quarters of the rows need no more than the first quarter did.
    let firstQuarterMiB = 0;
    let restMiB = 0;
    let progress = job;
    while (progress.status === 'queued' || progress.status === 'running') {
      await sleep(100);
      progress = await call('GET', `/v1/exports/${job.id}`);
      if (progress.rowsWritten < ROWS / 4) firstQuarterMiB = Math.max(firstQuarterMiB, statistics.memoryMiB());
      else restMiB = Math.max(restMiB, statistics.memoryMiB());
    }
    const elapsedS = (performance.now() - started) / 1000;
    if (progress.status !== 'done') throw new Error(`export ${progress.status}`);
    const rate = progress.rowsWritten / elapsedS;
    // Other work on the machine shows here (2 cores: a load above 2 means waiting for CPU).
    log(
      `  load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    log(`  export done in ${elapsedS.toFixed(1)} s: ${progress.rowsWritten} rows, ${(progress.bytesWritten / 2 ** 20).toFixed(0)} MiB`);

    const downloading = performance.now();
    const response = await fetch(`${api}${progress.file}`, { headers: { authorization: basic(ADMIN.login, ADMIN.password) } });
    let lines = 0;
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) lines++;
    }
    log(`  downloaded ${(bytes / 2 ** 20).toFixed(0)} MiB, ${lines} lines, in ${((performance.now() - downloading) / 1000).toFixed(1)} s`);
    if (lines !== ROWS + 1 || progress.rowsWritten !== ROWS) throw new Error(`expected ${ROWS} rows and a header`);
    for (const p of processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);
    const peak = statistics.peakMemoryMiB();
    log(`  statistics RSS: ${before} MiB before, at most ${firstQuarterMiB} MiB in the first quarter of the rows, ${restMiB} MiB after`);
    log(`RESULT export_rate ${Math.round(rate)} rows/s target >= ${TARGET_RATE} ${rate >= TARGET_RATE ? 'met' : 'missed'}`);
    const flat = restMiB <= firstQuarterMiB + FLAT_MARGIN_MIB;
    log(
      `RESULT export_peak_rss ${peak} MiB target flat: the rest of the rows <= the first quarter's ${firstQuarterMiB} MiB ` +
        `+ ${FLAT_MARGIN_MIB} (${restMiB} MiB) ${flat ? 'met' : 'missed'}`,
    );
  } finally {
    await suite?.stop();
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
