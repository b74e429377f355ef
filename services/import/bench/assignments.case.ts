/**
 * Benchmark case (e) of bench:import: an I3 course-assignment file of 250,000 rows (50,000
 * users × 5 courses) imported through the gateway's HTTP routes, every part of the suite in
 * its own process. Timed from the start of the upload until the job is completed; the rate is
 * the file's data rows over that time. The users are seeded by SQL and the courses through the
 * API beforehand (not timed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ADMIN, basic, cpuLines, watchCpu, type SuiteProcesses } from '@assistants/testing';

const TARGET_RATE = 15_000;
const COURSES = 5;

const log = (message: string) => process.stdout.write(`${message}\n`);

/** `count` users of the root organisation, logins `<prefix>.<n>`, by SQL (identity's
 * triggers keep its search projection as for any insert). */
async function seedUsers(databaseUrl: string, prefix: string, count: number): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=identity' });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO identity.users (login, last_name, first_name, email, language, organisation_id)
       SELECT $2 || '.' || i, 'Learner ' || i, 'Import', $2 || '.' || i || '@example.com', 'fr-FR', o.id
       FROM generate_series(1, $1::int) i, (SELECT id FROM identity.organisations WHERE parent_id IS NULL) o`,
      [count, prefix],
    );
    await db.query('ANALYZE identity.users');
  } finally {
    await db.end();
  }
}

/** The I3 file: each user with every course, user after user (as an export from another
 * system lists them), with dates, option and payment on every row. */
function courseAssignmentsFile(prefix: string, users: number, codes: string[]): Buffer {
  const lines = [
    'user_loginid;crsvname;start_date;end_date;objective_date;external_session_id;assignment_option;billing_mode;billing_code;session_enrolment_status;unit_cost',
  ];
  for (let u = 1; u <= users; u++) {
    for (const code of codes) lines.push(`${prefix}.${u};${code};2027/01/04;2027/06/30;2027/03/01;;Mandatory;ByCourse;PO-2027;;120.00`);
  }
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

/** Runs the case on a started suite; returns its RESULT line(s). */
export async function courseAssignmentsCase(suite: SuiteProcesses, options: { rows?: number } = {}): Promise<string[]> {
  const rows = options.rows ?? 250_000;
  const users = Math.ceil(rows / COURSES);
  const prefix = `imp${Date.now().toString(36)}`;
  const seeding = performance.now();
  await seedUsers(suite.databaseUrl, prefix, users);
  const codes: string[] = [];
  for (let n = 1; n <= COURSES; n++) {
    const course = await suite.call('POST', '/v1/courses', { code: `${prefix}-C${n}`, name: `Import benchmark course ${n}` });
    codes.push(course.code);
  }
  const file = courseAssignmentsFile(prefix, users, codes);
  const dataRows = users * COURSES;
  log(
    `  (e) seeded ${users} users and ${COURSES} courses in ${((performance.now() - seeding) / 1000).toFixed(1)} s; file ${dataRows} rows, ${(file.length / 1048576).toFixed(1)} MiB`,
  );

  const auth = basic(ADMIN.login, ADMIN.password);
  const cpu = await watchCpu(suite);
  const started = performance.now();
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'text/csv' }), 'course-assignments.csv');
  const uploaded = await fetch(`${suite.api}/v1/imports/kinds/course-assignments/uploads`, {
    method: 'POST',
    headers: { authorization: auth },
    body: form,
  });
  const upload = (await uploaded.json()) as { uploadId: string; fileError?: unknown };
  if (!uploaded.ok || upload.fileError) throw new Error(`upload: ${uploaded.status} ${JSON.stringify(upload)}`);
  const uploadS = (performance.now() - started) / 1000;
  let job = await suite.call('POST', '/v1/imports', { uploadId: upload.uploadId });
  while (job.status === 'queued' || job.status === 'running') {
    await sleep(100);
    job = await suite.call('GET', `/v1/imports/${job.id}`);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const usage = await cpu.stop();
  const c = job.counts;
  log(
    `  (e) ${job.status} in ${elapsedS.toFixed(1)} s (upload ${uploadS.toFixed(1)} s): read ${c.read}, added ${c.added}, updated ${c.updated}, ` +
      `unchanged ${c.unchanged}, rejected ${c.rejected}`,
  );
  for (const line of cpuLines(usage, dataRows, 'row', 'µs')) log(`  (e) ${line}`);
  if (job.status !== 'completed' || c.read !== dataRows || c.added !== dataRows) {
    throw new Error(`expected ${dataRows} rows added, got ${JSON.stringify(job)}`);
  }
  const rate = Math.round(dataRows / elapsedS);
  return [`RESULT import-course-assignments ${rate} rows/s target >= ${TARGET_RATE} ${rate >= TARGET_RATE ? 'met' : 'missed'}`];
}
