/**
 * test:replicas — two gateways and two instances of every service, each its own process, on
 * one PostgreSQL database and one nats-server, given work through BOTH gateways over real
 * HTTP at the same time:
 *
 * - an assistant run: U7, REPLICAS_USERS users × 2 courses, with the notify mail (started on
 *   gateway 1);
 * - a mail fan-out: U16, an ad-hoc mail to REPLICAS_USERS other users (started on gateway 2);
 * - an import: I2, REPLICAS_IMPORT_ROWS rows (users seeded by SQL updated, and 200 new users
 *   with their passwords), uploaded through gateway 2 and started through gateway 1.
 *
 * Then it checks that every item, row and mail happened exactly once: the runs' results and
 * the assignments in the database, every mail received once by its recipient (a real SMTP
 * server counting copies by recipient and Message-ID) and marked sent, the import's counts
 * and users, the statistics service's copies of them (every event consumed), no event left in
 * an outbox, every consumer caught up, no dead letter. Prints a summary; exits 1 on any
 * violation.
 *
 *   npm run test:replicas                 REPLICAS_USERS=… REPLICAS_IMPORT_ROWS=… for other sizes
 *   npm run build && REPLICAS_COMPILED=1 npm run test:replicas     the compiled parts, as containers run them
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, startNats } from '../support';
import { countMails, describeEventState, eventsSettled, Invariants, waitEventsSettled } from '../support/invariants';
import { startMailCounter } from '../support/mail-counter';
import { startReplicatedSuite, type ReplicatedSuite } from '../support/replicated';
import {
  createAssignmentTemplate,
  createCourses,
  seedUsers,
  sqlNumber,
  sqlRows,
  startAssignRun,
  startMailRun,
  uploadImportFile,
  waitImport,
  waitRun,
  writeUsersFile,
  type ApiCall,
} from '../support/workloads';

const USERS = Number(process.env.REPLICAS_USERS ?? 1_000);
const IMPORT_ROWS = Number(process.env.REPLICAS_IMPORT_ROWS ?? 3_000);
const CREATIONS = Math.min(200, IMPORT_ROWS);
const UPDATES = IMPORT_ROWS - CREATIONS;
const COURSES = 2;
const CITY = 'Replicaville';
const TIMEOUT_MS = 5 * 60_000;

const log = (line: string) => process.stdout.write(`${line}\n`);
const since = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const began = performance.now();
  log(`test:replicas — 2 gateways and 2 instances of every service, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  log(`  U7 ${USERS} users × ${COURSES} courses with notify; U16 to ${USERS} users; I2 ${IMPORT_ROWS} rows (${CREATIONS} new)`);
  const [nats, database, smtp] = await Promise.all([startNats(), createTestDatabase('replicas'), startMailCounter()]);
  const dir = mkdtempSync(join(os.tmpdir(), 'replicas-'));
  let suite: ReplicatedSuite | undefined;
  const invariants = new Invariants(log);
  try {
    const starting = performance.now();
    suite = await startReplicatedSuite({
      natsUrl: nats.url,
      databaseUrl: database.url,
      smtpPort: smtp.port,
      compiled: process.env.REPLICAS_COMPILED === '1',
      env: {
        // Batches of 100: a run is many batches, for both gateways to share.
        gateway: { GATEWAY_RUN_BATCH_SIZE: '100' },
        notification: { NOTIFICATION_MAILS_PER_SECOND: '300', NOTIFICATION_SENDER_POLL_MS: '200' },
        import: { IMPORT_CHUNK_ROWS: '250', IMPORT_WORKER_POLL_MS: '200' },
      },
    });
    log(`  ${suite.processes.length} processes started in ${since(starting)}`);
    const s = suite;
    const gateways: ApiCall[] = s.apis.map((_, g) => (method: string, path: string, body?: unknown) => s.call(g, method, path, body));
    const [g1, g2] = gateways as [ApiCall, ApiCall];

    await seedUsers(database.url, 'rep.u7.', USERS, 'alphaassign');
    await seedUsers(database.url, 'rep.u16.', USERS, 'betamail');
    await seedUsers(database.url, 'rep.imp.', UPDATES, 'gammaimport');
    const courseIds = await createCourses(g1, 'REP', COURSES);
    const templateId = await createAssignmentTemplate(g2, 'Replicas notify');
    const file = join(dir, 'users.csv');
    await writeUsersFile(file, { updatePrefix: 'rep.imp.', updates: UPDATES, createPrefix: 'rep.new.', creations: CREATIONS, city: CITY });

    // The three at once, through both gateways.
    const working = performance.now();
    const [assign, mail, job] = await Promise.all([
      startAssignRun(g1, 'alphaassign', courseIds, templateId),
      startMailRun(g2, 'betamail'),
      uploadImportFile(s.apis[1]!, s.auth, 'users', file).then((uploadId) =>
        g1('POST', '/v1/imports', { uploadId, options: { updatePasswords: false } }),
      ),
    ]);
    const [assignRun, mailRun, importJob] = await Promise.all([
      waitRun([g2, g1], assign.id, TIMEOUT_MS),
      waitRun([g1, g2], mail.id, TIMEOUT_MS),
      waitImport([g2, g1], job.id, TIMEOUT_MS),
    ]);
    log(`  runs and import finished in ${since(working)}`);
    const expectedMails = USERS * COURSES + USERS;
    const deadline = Date.now() + TIMEOUT_MS;
    while (smtp.count().messages < expectedMails && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    log(`  ${smtp.count().messages} mails received ${since(working)} after the start`);
    const events = await waitEventsSettled(database.url, nats.url, 60_000);
    // A little longer: a mail sent twice would come now.
    await new Promise((r) => setTimeout(r, 2000));

    log('invariants:');
    const db = database.url;
    // The run: one result per user and course, each assignment once.
    invariants.equal('U7 run completed', assignRun.status, 'completed');
    invariants.equal('U7 results succeeded', assignRun.succeeded, USERS * COURSES);
    invariants.equal('U7 results failed', assignRun.failed, 0);
    invariants.equal(
      'U7 result rows (one per user and course)',
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM gateway.run_results WHERE run_id = $1', [assign.id]),
      USERS * COURSES,
    );
    invariants.equal(
      'course assignments in the assignment service',
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM assignment.course_assignments WHERE course_id = ANY($1::uuid[])', [courseIds]),
      USERS * COURSES,
    );
    invariants.equal(
      "course assignments in the statistics service's copy (every event consumed)",
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM statistics.course_assignments WHERE course_id = ANY($1::uuid[])', [courseIds]),
      USERS * COURSES,
    );
    invariants.equal('U16 run completed', mailRun.status, 'completed');
    invariants.equal('U16 results succeeded', mailRun.succeeded, USERS);

    // The mails: each recipient its distinct mails, each once.
    const expected = new Map<string, number>();
    for (let n = 1; n <= USERS; n++) expected.set(`rep.u7.${n}@example.com`, COURSES);
    for (let n = 1; n <= USERS; n++) expected.set(`rep.u16.${n}@example.com`, 1);
    const mails = countMails(smtp.count().byRecipient, expected);
    invariants.equal('SMTP messages received', smtp.count().messages, expectedMails);
    invariants.equal('mails missing (recipient short of its distinct mails)', mails.missing, 0);
    invariants.equal('distinct mails too many', mails.extra, 0);
    invariants.equal('copies of a mail received twice (same Message-ID)', mails.duplicateCopies, 0);
    invariants.equal('mails to nobody expected', mails.unexpected, 0);
    const statuses = await sqlRows<{ status: string; n: number }>(
      db,
      'SELECT status, count(*)::int AS n FROM notification.mails GROUP BY status ORDER BY status',
    );
    invariants.equal('mails queued once and sent', statuses.map((r) => `${r.status} ${r.n}`).join(', '), `sent ${expectedMails}`);

    // The import: every row once.
    invariants.equal('import completed', importJob.status, 'completed');
    invariants.equal('import rows read', importJob.counts.read, IMPORT_ROWS);
    invariants.equal('import rows added', importJob.counts.added, CREATIONS);
    invariants.equal('import rows updated', importJob.counts.updated, UPDATES);
    invariants.equal('import rows rejected', importJob.counts.rejected, 0);
    invariants.equal(
      'imported users in identity (updated, created)',
      `${await sqlNumber(db, "SELECT count(*)::int AS n FROM identity.users WHERE login LIKE 'rep.imp.%' AND city = $1", [CITY])}, ${await sqlNumber(db, "SELECT count(*)::int AS n FROM identity.users WHERE login LIKE 'rep.new.%' AND city = $1", [CITY])}`,
      `${UPDATES}, ${CREATIONS}`,
    );
    invariants.equal(
      "imported users in the statistics service's copy (every event consumed)",
      await sqlNumber(db, 'SELECT count(*)::int AS n FROM statistics.users WHERE city = $1', [CITY]),
      IMPORT_ROWS,
    );

    // The events.
    for (const line of describeEventState(events)) log(`  ${line}`);
    invariants.check('no event left in an outbox, every consumer caught up', eventsSettled(events));
    invariants.equal(
      'dead letters',
      Object.values(events.deadLetters).reduce((a, b) => a + b, 0),
      0,
    );

    // Who did the work (not an invariant: the replicas may share it unevenly).
    const batches = await sqlRows<{ owner: string; n: number }>(
      db,
      `SELECT lease_owner AS owner, count(*)::int AS n FROM gateway.run_batches WHERE run_id = ANY($1::uuid[]) GROUP BY 1 ORDER BY 1`,
      [[assign.id, mail.id]],
    );
    log(`  run batches by gateway process: ${batches.map((b) => `${b.owner} ${b.n}`).join(', ')}`);
    log(
      `  import job run by: ${(await sqlRows<{ o: string }>(db, 'SELECT lease_owner AS o FROM import.jobs WHERE id = $1', [job.id]))[0]?.o}`,
    );
    for (const p of s.processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);
  } catch (error) {
    invariants.check('the scenario ran to its end', false, error instanceof Error ? error.message : String(error));
  } finally {
    await suite?.stop();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([nats.stop(), database.drop()]);
  }
  const failed = invariants.violations;
  log(
    `test:replicas: ${invariants.results.length - failed} invariants held, ${failed} violated, in ${since(began)}${failed ? ' — FAILED' : ''}`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
