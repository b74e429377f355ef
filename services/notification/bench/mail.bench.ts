/**
 * bench:mail — one U7 run with notify on 50,000 users: the assignment events reach the
 * notification service, which renders one mail per learner (LiquidJS, the user's language)
 * and delivers it over SMTP to a local sink, every part of the suite in its own process on the
 * real PostgreSQL server and a real nats-server.
 *
 *   npm run bench:mail                    BENCH_USERS=… for another size
 *
 * The sink (npm smtp-server, in this process) only counts: each message's Message-ID and
 * recipient, so that it costs the machine as little as a real relay's first hop would. The
 * sending rate is raised to NOTIFICATION_MAILS_PER_SECOND=2000 (the default, 100 per replica,
 * is an operator's choice, not a limit of the code). Sustained rate: mails received divided by
 * the time from the first mail to the last. It ends with one line per target:
 * RESULT <name> <value> <unit> target <op> <bar> met|missed. Results go in BENCHMARKS.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { SMTPServer } from 'smtp-server';
import { createTestDatabase, seedBenchUsers, startNats, startSuiteProcesses, type SuiteProcesses } from '@assistants/testing';

const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const TARGET_RATE = 500;
const MARK = 'benchmail';

const log = (message: string) => process.stdout.write(`${message}\n`);

/** An SMTP server that accepts everything and remembers only who got which Message-ID. */
async function startCountingSink() {
  const messageIds = new Set<string>();
  const recipients = new Set<string>();
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    closeTimeout: 100,
    onData(stream, session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        received++;
        lastAt = performance.now();
        firstAt ||= lastAt;
        messageIds.add(/^message-id:\s*(\S+)/im.exec(head)?.[1] ?? `missing-${received}`);
        for (const r of session.envelope.rcptTo) recipients.add(r.address);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // A sender that closes abruptly resets its connections: not a reason to stop the bench.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  return {
    port: (server.server.address() as { port: number }).port,
    stats: () => ({ received, distinctIds: messageIds.size, recipients: recipients.size, firstAt, lastAt }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  log(`bench:mail — U7 with notify, ${USERS} users, ${os.cpus().length} × ${os.cpus()[0]?.model}`);
  const [nats, database, sink] = await Promise.all([startNats(), createTestDatabase('bench_mail'), startCountingSink()]);
  let suite: SuiteProcesses | undefined;
  try {
    suite = await startSuiteProcesses({
      natsUrl: nats.url,
      databaseUrl: database.url,
      smtpPort: sink.port,
      notificationEnv: { NOTIFICATION_MAILS_PER_SECOND: '2000', NOTIFICATION_SMTP_MAX_CONNECTIONS: '10' },
    });
    const { call, processes } = suite;
    await seedBenchUsers(database.url, USERS, MARK);
    const course = await call('POST', '/v1/courses', {
      code: 'MAIL-1',
      name: 'Fire safety',
      lessons: [{ code: 'MAIL-1-L1', name: 'Lesson 1', type: 'L' }],
    });
    const template = await call('POST', '/v1/mail-templates', {
      name: 'New course',
      context: 'course_assignment',
      variants: [
        {
          language: 'fr-FR',
          subject: 'Nouveau cours : {{ course.name }}',
          html: '<p>Bonjour {{ user.first_name }} {{ user.last_name }},</p><p>le cours <b>{{ course.name }}</b> vous attend.</p>',
          text: 'Bonjour {{ user.first_name }} {{ user.last_name }}, le cours {{ course.name }} vous attend.',
        },
      ],
    });

    const started = performance.now();
    const run = await call('POST', '/v1/runs', {
      assistant: 'users',
      action: 'U7',
      selection: { type: 'filter', filter: { custom1: MARK } },
      params: { courseIds: [course.id], option: 'mandatory', notifyTemplateId: template.id },
    });
    let progress = run;
    while (progress.status !== 'completed') {
      await sleep(250);
      progress = await call('GET', `/v1/runs/${run.id}`);
    }
    log(`  run completed in ${((performance.now() - started) / 1000).toFixed(1)} s: ${progress.succeeded} assignments`);
    const deadline = Date.now() + 15 * 60_000;
    let last = -1;
    for (;;) {
      const { received } = sink.stats();
      if (received >= USERS) break;
      if (Date.now() > deadline) throw new Error(`only ${received} mails of ${USERS} after 15 minutes`);
      if (received !== last && received % 10_000 < 500) log(`  ${received} mails received`);
      last = received;
      await sleep(500);
    }
    // A little longer: a duplicate would arrive now.
    await sleep(2000);
    const stats = sink.stats();
    const endToEndS = (stats.lastAt - started) / 1000;
    const sustainedS = (stats.lastAt - stats.firstAt) / 1000;
    const rate = stats.received / sustainedS;
    log(`  ${stats.received} mails received, ${stats.distinctIds} distinct Message-IDs, ${stats.recipients} recipients`);
    log(`  first mail ${((stats.firstAt - started) / 1000).toFixed(1)} s after the run started, last ${endToEndS.toFixed(1)} s`);
    for (const p of processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);
    if (stats.distinctIds !== USERS || stats.recipients !== USERS) throw new Error('a mail was lost or sent twice');
    log(`RESULT mail_rate ${Math.round(rate)} mails/s target >= ${TARGET_RATE} ${rate >= TARGET_RATE ? 'met' : 'missed'}`);
  } finally {
    await suite?.stop();
    await sink.close();
    await Promise.all([nats.stop(), database.drop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
