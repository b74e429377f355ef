/**
 * chaos — the suite replicated (two gateways, two instances of every service, each its own
 * process, on one PostgreSQL database and one nats-server) given three things to do at once:
 *
 * - U7 with the notify mail: CHAOS_RUN_USERS (10,000) users × 2 courses, every assignment
 *   mailed to its learner through a real SMTP server in this process;
 * - an I2 users import of CHAOS_IMPORT_ROWS (100,000) rows: users seeded by SQL updated
 *   (no password: argon2id would bound it to ~150 rows/s on two cores) and
 *   CHAOS_IMPORT_NEW (500) new users with their password;
 * - X1 exports, one after the other (CHAOS_EXPORT_PAUSE_SECONDS, 10, between them) while the
 *   chaos lasts: CHAOS_EXPORT_USERS (5,000) users × 5 courses × 4 lessons seeded in the
 *   statistics service's copies, 100,000 rows each;
 *
 * while, for CHAOS_SECONDS (240), it kills a random process of the suite with SIGKILL every
 * CHAOS_KILL_EVERY_SECONDS (5) and starts it again (waiting until it is ready), and once, half
 * way, kills NATS (SIGKILL) and starts it again on the same port and JetStream store. Then it
 * waits (at most CHAOS_DRAIN_SECONDS, 900) for everything to finish and checks:
 *
 * - every assignment once: the run's results, the rows of the assignment service and the
 *   statistics service's copy (its events all consumed);
 * - every mail once: one queued per assignment and sent, each recipient receiving each of its
 *   distinct mails (by Message-ID); copies of one mail sent twice, with the same Message-ID,
 *   are counted and allowed only within the notification service's documented bound (a kill
 *   between the SMTP server's 250 and the database update: at most
 *   NOTIFICATION_SMTP_MAX_CONNECTIONS per notification kill);
 * - every import row once: the job's counts, the users in identity and in the statistics
 *   service's copy;
 * - every export done, its file with each row once and every row there;
 * - no event lost, no consumer stuck: every outbox empty, every JetStream consumer with
 *   nothing pending and nothing unacknowledged, no dead letter;
 * - every process running at the end.
 *
 * Prints them with the kills performed; exits 1 on any violation. CHAOS_SEED replays the
 * same choice of victims; CHAOS_VICTIMS (e.g. "notification,identity") draws them from those
 * parts only (the kills a random draw may not make while their work is running). The runs so
 * far are in RELIABILITY.md.
 *
 *   npm run chaos
 *   CHAOS_SECONDS=120 CHAOS_IMPORT_ROWS=20000 CHAOS_RUN_USERS=2000 npm run chaos   # smaller
 *   npm run build && CHAOS_COMPILED=1 npm run chaos     # the compiled parts, as containers run them
 *   CHAOS_VICTIMS=notification,identity npm run chaos    # only those parts killed (and NATS once)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT_ORGANISATION_ID } from '@assistants/kit';
import { createTestDatabase, seededRandom, startNats, type TestNats } from '../support';
import { countMails, describeEventState, eventsSettled, Invariants, waitEventsSettled } from '../support/invariants';
import { startMailCounter } from '../support/mail-counter';
import { startReplicatedSuite, type ReplicatedSuite, type SuiteReplica } from '../support/replicated';
import {
  createAssignmentTemplate,
  createCourses,
  seedUsers,
  sqlNumber,
  sqlRows,
  startAssignRun,
  uploadImportFile,
  waitImport,
  waitRun,
  writeUsersFile,
  type ApiCall,
} from '../support/workloads';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 240);
const KILL_EVERY_SECONDS = Number(process.env.CHAOS_KILL_EVERY_SECONDS ?? 5);
const DRAIN_SECONDS = Number(process.env.CHAOS_DRAIN_SECONDS ?? 900);
const RUN_USERS = Number(process.env.CHAOS_RUN_USERS ?? 10_000);
const COURSES = 2;
const IMPORT_ROWS = Number(process.env.CHAOS_IMPORT_ROWS ?? 100_000);
const CREATIONS = Math.min(Number(process.env.CHAOS_IMPORT_NEW ?? 500), IMPORT_ROWS);
const UPDATES = IMPORT_ROWS - CREATIONS;
const EXPORT_USERS = Number(process.env.CHAOS_EXPORT_USERS ?? 5_000);
const EXPORT_COURSES = 5;
const EXPORT_LESSONS = 4;
const EXPORT_ROWS = EXPORT_USERS * EXPORT_COURSES * EXPORT_LESSONS;
const EXPORT_PAUSE_SECONDS = Number(process.env.CHAOS_EXPORT_PAUSE_SECONDS ?? 10);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
/** The parts the victims are drawn from (every one when empty). */
const VICTIMS = (process.env.CHAOS_VICTIMS ?? '').split(',').filter(Boolean);
const SMTP_CONNECTIONS = 5;
const CITY = 'Chaosville';

const log = (line: string) => process.stdout.write(`${line}\n`);
const clock = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s`;

/** The export's data, straight into the statistics service's copies (as bench:export does):
 * users of an organisation of their own, so that an export filtered on it has exactly
 * EXPORT_ROWS rows whatever else the suite holds. Its id. */
async function seedExportData(databaseUrl: string): Promise<string> {
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=statistics' });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO organisations (id, ext_id, label, parent_id, path, version)
       VALUES ($1, 'ROOT', 'Root', NULL, ARRAY[$1::uuid], now()) ON CONFLICT (id) DO NOTHING`,
      [ROOT_ORGANISATION_ID],
    );
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO organisations (id, ext_id, label, parent_id, path, version)
       VALUES (gen_random_uuid(), 'CHAOS-EXPORT', 'Chaos export', $1, ARRAY[$1::uuid], now()) RETURNING id`,
      [ROOT_ORGANISATION_ID],
    );
    const org = rows[0]!.id;
    await db.query('UPDATE organisations SET path = path || id WHERE id = $1', [org]);
    await db.query(
      `INSERT INTO users (id, login, ext_id, last_name, first_name, email, language, activation_date, expiration_date, disabled,
                          organisation_id, city, country, custom, last_login_at, version)
       SELECT gen_random_uuid(), 'chaosx.' || i, 'CX-' || i, 'Learner ' || i, 'Export', 'chaosx.' || i || '@example.com', 'fr-FR',
              '2026-01-01', '', false, $2, 'Lyon', 'FR', ARRAY['', '', '', '', '', '', '', '', '', ''], '', now()
         FROM generate_series(1, $1::int) i`,
      [EXPORT_USERS, org],
    );
    await db.query(
      `INSERT INTO courses (id, code, name, external_training, version)
       SELECT gen_random_uuid(), 'CHAOSX-' || c, 'Chaos export course ' || c, false, now() FROM generate_series(1, $1::int) c`,
      [EXPORT_COURSES],
    );
    await db.query(
      `INSERT INTO lessons (id, course_id, code, name, type, position, optional)
       SELECT gen_random_uuid(), c.id, c.code || '-L' || l, 'Lesson ' || l, 'L', l, false
         FROM courses c, generate_series(1, $1::int) l WHERE c.code LIKE 'CHAOSX-%'`,
      [EXPORT_LESSONS],
    );
    await db.query(
      `INSERT INTO course_assignments (user_id, course_id, start_date, end_date, option, assigned_at, updated_at)
       SELECT u.id, c.id, '2027-01-04', '2027-06-30', 'mandatory', now(), now()
         FROM users u, courses c WHERE u.login LIKE 'chaosx.%' AND c.code LIKE 'CHAOSX-%'`,
    );
    await db.query(
      `INSERT INTO course_progress (user_id, course_id, status, status_date, time_spent_seconds)
       SELECT a.user_id, a.course_id, 'not_started', now(), 0
         FROM course_assignments a JOIN courses c ON c.id = a.course_id WHERE c.code LIKE 'CHAOSX-%'`,
    );
    await db.query('ANALYZE');
    return org;
  } finally {
    await db.end();
  }
}

/** Tries `work` on each gateway in turn until one answers (a gateway may be down). */
async function onAnyGateway<T>(gateways: ApiCall[], work: (call: ApiCall) => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    try {
      return await work(gateways[i % gateways.length]!);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

interface Kill {
  at: string;
  victim: string;
  restartSeconds: number;
  note: string;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  log(
    `chaos — ${new Date().toISOString()}, commit ${commit}, ${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  );
  log(
    `  U7 ${RUN_USERS} users × ${COURSES} courses with notify; I2 ${IMPORT_ROWS} rows (${UPDATES} updates, ${CREATIONS} new); ` +
      `X1 exports of ${EXPORT_ROWS} rows; ${SECONDS} s of chaos, a kill every ${KILL_EVERY_SECONDS} s, seed ${SEED}` +
      `${VICTIMS.length > 0 ? ` (victims: ${VICTIMS.join(', ')})` : ''}; ` +
      `${process.env.CHAOS_COMPILED === '1' ? 'compiled parts (plain node)' : 'parts run with tsx'}`,
  );
  const [nats, database, smtp] = await Promise.all([startNats(), createTestDatabase('chaos'), startMailCounter()]);
  const dir = mkdtempSync(join(os.tmpdir(), 'chaos-'));
  const invariants = new Invariants(log);
  const kills: Kill[] = [];
  let suite: ReplicatedSuite | undefined;
  try {
    suite = await startReplicatedSuite({
      natsUrl: nats.url,
      databaseUrl: database.url,
      smtpPort: smtp.port,
      compiled: process.env.CHAOS_COMPILED === '1',
      env: {
        // A killed process's claims (batches, jobs, mails) go back to the others within seconds.
        gateway: { GATEWAY_RUN_LEASE_SECONDS: '10', GATEWAY_RUN_BATCH_SIZE: '500' },
        import: { IMPORT_LEASE_SECONDS: '10' },
        statistics: { STATISTICS_EXPORT_LEASE_SECONDS: '10' },
        notification: {
          NOTIFICATION_SENDER_LEASE_SECONDS: '15',
          NOTIFICATION_MAILS_PER_SECOND: '250',
          NOTIFICATION_SMTP_MAX_CONNECTIONS: String(SMTP_CONNECTIONS),
        },
      },
    });
    const s = suite;
    log(`  ${s.processes.length} processes started at ${clock(t0)}`);
    const gateways: ApiCall[] = s.apis.map((_, g) => (method: string, path: string, body?: unknown) => s.call(g, method, path, body));
    const [g1, g2] = gateways as [ApiCall, ApiCall];

    // Set-up, before any kill.
    await seedUsers(database.url, 'chaos.u7.', RUN_USERS, 'deltaassign');
    await seedUsers(database.url, 'chaos.imp.', UPDATES, 'epsilonimport');
    const exportOrg = await seedExportData(database.url);
    const courseIds = await createCourses(g1, 'CHAOS', COURSES);
    const templateId = await createAssignmentTemplate(g2, 'Chaos notify');
    const file = join(dir, 'users.csv');
    await writeUsersFile(file, {
      updatePrefix: 'chaos.imp.',
      updates: UPDATES,
      createPrefix: 'chaos.new.',
      creations: CREATIONS,
      city: CITY,
    });
    log(`  seeded at ${clock(t0)}`);

    // The three at once, through both gateways; the kills start once they are under way.
    const uploadId = await uploadImportFile(s.apis[1]!, s.auth, 'users', file);
    const job = await g1('POST', '/v1/imports', { uploadId, options: { updatePasswords: false } });
    const run = await startAssignRun(g2, 'deltaassign', courseIds, templateId);
    const exportRequest = {
      columns: ['user.login', 'course.code', 'lesson.code', 'lesson.status'],
      separator: ';',
      filters: { organisationId: exportOrg },
    };
    const exportIds: string[] = [];
    let chaosOn = true;
    // Past this, nothing is waited for any more: the checks say what did not finish.
    const giveUpAt = Date.now() + (SECONDS + DRAIN_SECONDS) * 1000;
    const exportsDone = (async () => {
      while (chaosOn) {
        const started = await onAnyGateway(gateways, (call) => call('POST', '/v1/exports', exportRequest));
        exportIds.push(started.id);
        for (let i = 0; Date.now() < giveUpAt; i++) {
          const e = await gateways[i % 2]!('GET', `/v1/exports/${started.id}`).catch(() => undefined);
          if (e && e.status !== 'queued' && e.status !== 'running') break;
          await sleep(1000);
        }
        // Room for the rest of the work between two exports.
        await sleep(EXPORT_PAUSE_SECONDS * 1000);
      }
    })();
    // Awaited after the chaos; handled now so that a failure meanwhile does not end the process.
    exportsDone.catch(() => {});
    log(`  import ${job.id}, run ${run.id} (${run.total} users) and the first export started at ${clock(t0)}`);

    // The chaos.
    // The victims follow from CHAOS_SEED.
    const choose = seededRandom(SEED);
    const parts = new Set(s.processes.map((p) => p.name.split('#')[0]!));
    const unknown = VICTIMS.filter((v) => !parts.has(v));
    if (unknown.length > 0)
      throw new Error(`CHAOS_VICTIMS names no part of the suite: ${unknown.join(', ')} (parts: ${[...parts].join(', ')})`);
    const chaosStart = performance.now();
    const progress = setInterval(() => {
      void (async () => {
        const r = await onAnyGateway(gateways, (call) => call('GET', `/v1/runs/${run.id}`), 5000).catch(() => undefined);
        const j = await onAnyGateway(gateways, (call) => call('GET', `/v1/imports/${job.id}`), 5000).catch(() => undefined);
        log(
          `  ${clock(t0)}: run ${r?.done ?? '?'}/${r?.total ?? '?'}, import ${j ? Math.round((100 * j.bytesRead) / Math.max(1, j.fileSize)) : '?'} % (${j?.status ?? '?'}), ` +
            `${smtp.count().messages} mails, ${exportIds.length} exports, ${kills.length} kills`,
        );
      })();
    }, 15_000);
    let natsRestarted = false;
    try {
      while (performance.now() - chaosStart < SECONDS * 1000) {
        await sleep(KILL_EVERY_SECONDS * 1000);
        if (!natsRestarted && performance.now() - chaosStart > (SECONDS * 1000) / 2) {
          natsRestarted = true;
          const t = performance.now();
          await nats.restart();
          kills.push({ at: clock(t0), victim: 'nats-server', restartSeconds: (performance.now() - t) / 1000, note: 'same port and store' });
          log(`  ${clock(t0)}: killed nats-server, started again in ${kills.at(-1)!.restartSeconds.toFixed(1)} s`);
          continue;
        }
        const candidates = s.processes.filter((p) => VICTIMS.length === 0 || VICTIMS.includes(p.name.split('#')[0]!));
        const victim = candidates[Math.floor(choose() * candidates.length)]!;
        kills.push(await killAndRestart(victim, t0));
        log(
          `  ${kills.at(-1)!.at}: killed ${victim.name} (pid ${victim.pid} now), ready again in ${kills.at(-1)!.restartSeconds.toFixed(1)} s ${kills.at(-1)!.note}`,
        );
      }
    } finally {
      chaosOn = false;
    }
    log(`  chaos over at ${clock(t0)}: ${kills.length} kills; waiting for the work to finish`);

    // Drain: the run, the import, the exports, the mails, the events.
    const drainDeadline = Date.now() + DRAIN_SECONDS * 1000;
    const left = () => Math.max(10_000, drainDeadline - Date.now());
    const [runDone, jobDone] = await Promise.all([waitRun(gateways, run.id, left()), waitImport(gateways, job.id, left())]);
    await exportsDone;
    log(`  run and import finished at ${clock(t0)}`);
    const expectedMails = RUN_USERS * COURSES;
    const queued = () => sqlNumber(database.url, "SELECT count(*)::int AS n FROM notification.mails WHERE status = 'queued'");
    while (Date.now() < drainDeadline) {
      const distinct = [...smtp.count().byRecipient.values()].reduce((sum, ids) => sum + new Set(ids).size, 0);
      if (distinct >= expectedMails && (await queued()) === 0) break;
      await sleep(1000);
    }
    const events = await waitEventsSettled(database.url, nats.url, left());
    clearInterval(progress);
    // A little longer: a mail sent twice would come now.
    await sleep(3000);
    log(`  drained at ${clock(t0)}`);

    log('kills:');
    for (const k of kills) log(`  ${k.at} ${k.victim}: ready again in ${k.restartSeconds.toFixed(1)} s ${k.note}`);
    const byPart = new Map<string, number>();
    for (const k of kills) byPart.set(k.victim.split('#')[0]!, (byPart.get(k.victim.split('#')[0]!) ?? 0) + 1);
    log(`  by part: ${[...byPart].map(([p, n]) => `${p} ${n}`).join(', ')}`);

    log('invariants:');
    const db = database.url;
    // Every assignment once.
    invariants.equal('U7 run completed', runDone.status, 'completed');
    invariants.equal('U7 results succeeded', runDone.succeeded, RUN_USERS * COURSES);
    invariants.equal('U7 results failed or not done', runDone.failed + (runDone.notDone ?? 0), 0);
    invariants.equal(
      'U7 result rows (one per user and course)',
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM gateway.run_results WHERE run_id = $1', [run.id]),
      RUN_USERS * COURSES,
    );
    invariants.equal(
      'course assignments in the assignment service',
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM assignment.course_assignments WHERE course_id = ANY($1::uuid[])', [courseIds]),
      RUN_USERS * COURSES,
    );
    invariants.equal(
      "course assignments in the statistics service's copy (no event lost)",
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM statistics.course_assignments WHERE course_id = ANY($1::uuid[])', [courseIds]),
      RUN_USERS * COURSES,
    );
    const batches = await sqlRows<{ owner: string; n: number }>(
      db,
      'SELECT lease_owner AS owner, count(*)::int AS n FROM gateway.run_batches WHERE run_id = $1 GROUP BY 1 ORDER BY 1',
      [run.id],
    );
    log(`  run batches by the gateway process that stored them: ${batches.map((b) => `${b.owner} ${b.n}`).join(', ')}`);

    // Every mail once.
    const statuses = await sqlRows<{ status: string; n: number }>(
      db,
      'SELECT status, count(*)::int AS n FROM notification.mails GROUP BY status ORDER BY status',
    );
    invariants.equal('mails queued once each, all sent', statuses.map((r) => `${r.status} ${r.n}`).join(', '), `sent ${expectedMails}`);
    const expected = new Map<string, number>();
    for (let n = 1; n <= RUN_USERS; n++) expected.set(`chaos.u7.${n}@example.com`, COURSES);
    const mails = countMails(smtp.count().byRecipient, expected);
    invariants.equal('mails missing (a learner short of one of its mails)', mails.missing, 0);
    invariants.equal('distinct mails too many', mails.extra, 0);
    invariants.equal('mails to nobody expected', mails.unexpected, 0);
    const notificationKills = kills.filter((k) => k.victim.startsWith('notification#')).length;
    invariants.check(
      'copies of a mail received twice (same Message-ID) within the bound',
      mails.duplicateCopies <= notificationKills * SMTP_CONNECTIONS,
      `${mails.duplicateCopies} copies, bound ${notificationKills} notification kills × ${SMTP_CONNECTIONS} connections = ${notificationKills * SMTP_CONNECTIONS}; ${smtp.count().messages} SMTP messages for ${expectedMails} mails`,
    );

    // Every import row once.
    invariants.equal('import completed', jobDone.status, 'completed');
    invariants.equal(
      'import counts (read, added, updated, unchanged, rejected)',
      ['read', 'added', 'updated', 'unchanged', 'rejected'].map((k) => jobDone.counts[k]).join(', '),
      [IMPORT_ROWS, CREATIONS, UPDATES, 0, 0].join(', '),
    );
    invariants.equal(
      'imported users in identity (updated, created)',
      [
        await sqlNumber(db, "SELECT count(*)::int AS n FROM identity.users WHERE login LIKE 'chaos.imp.%' AND city = $1", [CITY]),
        await sqlNumber(db, "SELECT count(*)::int AS n FROM identity.users WHERE login LIKE 'chaos.new.%' AND city = $1", [CITY]),
      ].join(', '),
      `${UPDATES}, ${CREATIONS}`,
    );
    invariants.equal(
      "imported users in the statistics service's copy (no event lost)",
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM statistics.users WHERE city = $1', [CITY]),
      IMPORT_ROWS,
    );
    invariants.equal(
      'import chunks recorded once, their rows adding up',
      await sqlNumber(db, 'SELECT coalesce(sum(read), 0)::int AS n FROM import.job_chunks WHERE job_id = $1', [job.id]),
      IMPORT_ROWS,
    );

    // Every export done, every row once.
    const exportJobs = await sqlRows<{ id: string; status: string; rows: number; attempts: number }>(
      db,
      'SELECT id, status, rows_written::int AS rows, attempts FROM statistics.exports ORDER BY created_at',
    );
    invariants.check(
      'every export done',
      exportJobs.length > 0 && exportJobs.every((e) => e.status === 'done'),
      `${exportJobs.length} exports: ${exportJobs.map((e) => `${e.status} (attempts ${e.attempts})`).join(', ')}`,
    );
    let badFiles = 0;
    for (const e of exportJobs) {
      const response = await fetch(`${s.apis[0]}/v1/exports/${e.id}/file`, { headers: { authorization: s.auth } });
      const lines = (await response.text()).split('\r\n').filter(Boolean);
      const rows = lines.length - 1;
      if (!response.ok || rows !== EXPORT_ROWS || e.rows !== EXPORT_ROWS || new Set(lines).size !== lines.length) {
        badFiles++;
        log(
          `    export ${e.id}: HTTP ${response.status}, ${rows} rows in the file, ${e.rows} written, ${lines.length - new Set(lines).size} repeated`,
        );
      }
    }
    invariants.equal(`export files with every one of the ${EXPORT_ROWS} rows once`, exportJobs.length - badFiles, exportJobs.length);

    // No event lost, no consumer stuck.
    for (const line of describeEventState(events)) log(`  ${line}`);
    invariants.check(
      'no event left in an outbox, every consumer caught up (nothing pending, nothing unacknowledged)',
      eventsSettled(events),
    );
    invariants.equal(
      'dead letters',
      Object.values(events.deadLetters).reduce((a, b) => a + b, 0),
      0,
    );
    const dead = s.processes.filter((p) => !alive(p));
    invariants.check('every process running at the end', dead.length === 0, dead.map((p) => p.name).join(', '));
    for (const p of s.processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);
  } catch (error) {
    invariants.check('the scenario ran to its end', false, error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    await suite?.stop();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
    await stopQuietly(nats);
    await database.drop();
  }
  const failed = invariants.violations;
  log(
    `chaos: ${kills.length} kills (${kills.filter((k) => k.victim === 'nats-server').length} of NATS), ` +
      `${invariants.results.length - failed} invariants held, ${failed} violated, in ${clock(t0).trim()}${failed ? ' — FAILED' : ''}`,
  );
  return failed ? 1 : 0;
}

/** SIGKILL, then started again with the same environment and ports; tried again if it does
 * not come up (the note says so). */
async function killAndRestart(victim: SuiteReplica, t0: number): Promise<Kill> {
  const at = clock(t0);
  await victim.kill('SIGKILL');
  const t = performance.now();
  const notes: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      await victim.restart();
      break;
    } catch (error) {
      notes.push(`(restart ${attempt} failed: ${error instanceof Error ? error.message : String(error)})`);
      if (attempt === 3) throw new Error(`${victim.name} does not start again: ${notes.join(' ')}`);
    }
  }
  return { at, victim: victim.name, restartSeconds: (performance.now() - t) / 1000, note: notes.join(' ') };
}

function alive(p: SuiteReplica): boolean {
  try {
    process.kill(p.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopQuietly(nats: TestNats): Promise<void> {
  await nats.stop().catch(() => {});
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
