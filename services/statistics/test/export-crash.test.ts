import { ROOT_ORGANISATION_ID } from '@assistants/kit';
import { actingAs, startStack, startStatisticsProcess, type StatisticsProcess, type TestStack } from '@assistants/testing';

/**
 * An export job survives a SIGKILL of the statistics process that runs it: started again,
 * the process finds the job without a heartbeat for longer than the lease and runs it over
 * from its first row; the file holds every row once. (The stack's own in-process statistics
 * replica is kept from looking for jobs, so that the killed process is the one running it.)
 */
let stack: TestStack;
let replica: StatisticsProcess;
const USERS = 4_000;
const COURSES = 10;
const LESSONS = 5;
const ROWS = USERS * COURSES * LESSONS;

beforeAll(async () => {
  stack = await startStack({}, {}, { statisticsEnv: { STATISTICS_EXPORT_POLL_MS: '3600000' } });
  replica = await startStatisticsProcess({
    nats: stack.nats,
    pg: stack.fixture.pg,
    identityAddress: stack.identity.address,
    catalogAddress: stack.catalog.address,
    env: { STATISTICS_EXPORT_LEASE_SECONDS: '1', STATISTICS_EXPORT_POLL_MS: '100', LOG_LEVEL: 'warn' },
  });
  // The projections seeded by SQL (as bench:export does): 200,000 lesson rows.
  const db = stack.statistics.db;
  await db.query(
    `INSERT INTO organisations (id, ext_id, label, parent_id, path, version) VALUES ($1, 'ROOT', 'Root', NULL, ARRAY[$1::uuid], now())
     ON CONFLICT (id) DO NOTHING`,
    [ROOT_ORGANISATION_ID],
  );
  await db.query(
    `INSERT INTO users (id, login, ext_id, last_name, first_name, email, language, activation_date, expiration_date, disabled,
                        organisation_id, city, country, custom, last_login_at, version)
     SELECT gen_random_uuid(), 'crash.' || i, '', 'Learner ' || i, 'Crash', '', 'fr-FR', '', '', false, $2, '', '', '{}', '', now()
       FROM generate_series(1, $1::int) i`,
    [USERS, ROOT_ORGANISATION_ID],
  );
  await db.query(
    `INSERT INTO courses (id, code, name, external_training, version)
     SELECT gen_random_uuid(), 'CRASH-' || c, 'Course ' || c, false, now() FROM generate_series(1, $1::int) c`,
    [COURSES],
  );
  await db.query(
    `INSERT INTO lessons (id, course_id, code, name, type, position, optional)
     SELECT gen_random_uuid(), c.id, c.code || '-L' || l, 'Lesson ' || l, 'L', l, false
       FROM courses c, generate_series(1, $1::int) l WHERE c.code LIKE 'CRASH-%'`,
    [LESSONS],
  );
  await db.query(
    `INSERT INTO course_assignments (user_id, course_id, option, assigned_at, updated_at)
     SELECT u.id, c.id, 'mandatory', now(), now() FROM users u, courses c WHERE u.login LIKE 'crash.%' AND c.code LIKE 'CRASH-%'`,
  );
  await db.query('ANALYZE');
}, 180_000);

afterAll(async () => {
  await replica?.stop();
  await stack?.stop();
});

it('runs a job over after the process running it was killed, every row once', async () => {
  const exports = actingAs(replica.client, stack.fixture.adminId).exports;
  const { job } = await exports.startExport({
    columns: ['user.login', 'course.code', 'lesson.code', 'lesson.status'],
    separator: ';',
    bom: false,
    filters: undefined,
  });
  const state = async () =>
    (
      await stack.statistics.db.query<{ status: string; attempts: number; rows: number }>(
        'SELECT status, attempts, rows_written::int AS rows FROM exports WHERE id = $1',
        [job!.id],
      )
    ).rows[0];
  // Killed once the first chunks are stored.
  for (let s = await state(); !(s.status === 'running' && s.rows > 0); s = await state()) {
    if (s.status === 'done') throw new Error('the export ended before the kill: make it bigger');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await replica.kill('SIGKILL');
  expect(await state()).toMatchObject({ status: 'running', attempts: 1 });

  await replica.restart();
  for (let s = await state(); s.status !== 'done'; s = await state()) {
    if (s.status === 'failed') throw new Error('the export failed');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await state()).toMatchObject({ status: 'done', attempts: 2, rows: ROWS });
  const { rows } = await stack.statistics.db.query<{ seq: number; data: Buffer }>(
    'SELECT seq, data FROM export_chunks WHERE export_id = $1 ORDER BY seq',
    [job!.id],
  );
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i));
  const lines = Buffer.concat(rows.map((r) => r.data))
    .toString('utf8')
    .split('\r\n');
  expect(lines[0]).toBe('login;course unique id;lesson unique id;lesson status');
  expect(lines.length).toBe(ROWS + 2); // the header, and "" after the last CRLF
  expect(new Set(lines).size).toBe(ROWS + 2);
}, 180_000);
