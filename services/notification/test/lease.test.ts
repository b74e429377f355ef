import { randomUUID } from 'node:crypto';
import {
  actingAs,
  startIdentityFixture,
  startMailCounter,
  startNotificationProcess,
  type IdentityFixture,
  type MailCounter,
  type NotificationProcess,
} from '@assistants/testing';
import { createRecipients } from './recipients';

// Two replicas and a slow SMTP server (100 ms per message, 2 connections: about 20 mails/s per
// replica) while the configured rate (400/s) makes a replica claim 200 mails at a time: a claim
// lasts about 10 s, five times the 2-second lease. The sender must keep its claim alive, and
// a mail whose claim another replica took over must not be sent again.
const MAILS = 300;
const CONNECTIONS = 2;
const LEASE_SECONDS = 2;

let fixture: IdentityFixture;
let counter: MailCounter | undefined;
const processes: NotificationProcess[] = [];
const userIds: string[] = [];

beforeAll(async () => {
  fixture = await startIdentityFixture('notification_lease');
  userIds.push(...(await createRecipients(fixture, MAILS, 'lease')));
}, 60_000);

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  await counter?.stop();
  counter = undefined;
});

afterAll(async () => {
  await fixture?.stop();
});

function startReplica(smtpPort: number): Promise<NotificationProcess> {
  return startNotificationProcess({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    smtpPort,
    env: {
      NOTIFICATION_MAILS_PER_SECOND: '400',
      NOTIFICATION_SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
      NOTIFICATION_SENDER_LEASE_SECONDS: String(LEASE_SECONDS),
    },
  }).then((p) => {
    processes.push(p);
    return p;
  });
}

async function fanOut(replica: NotificationProcess, recipients: string[]): Promise<void> {
  const { result } = await actingAs(replica.client, fixture.adminId).mails.sendMails({
    batch: { idempotencyKey: `lease:${randomUUID()}`, dryRun: false },
    userIds: recipients,
    templateId: '',
    content: { subject: 'Lease {{ user.first_name }}', html: '', text: 'Hello {{ user.first_name }}' },
  });
  expect(result!.results.filter((r) => r.code === '')).toHaveLength(recipients.length);
}

/** Waits until every one of `count` recipients has a copy, then a little longer (for late copies). */
async function allReceived(smtp: MailCounter, count: number): Promise<Map<string, string[]>> {
  const deadline = Date.now() + 45_000;
  while (smtp.count().byRecipient.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  const { byRecipient } = smtp.count();
  expect(byRecipient.size).toBe(count);
  return byRecipient;
}

it('two replicas sending slower than their lease: every mail is received exactly once', async () => {
  const smtp = (counter = await startMailCounter({ acceptDelayMs: 100 }));
  // One after the other: the first one migrates the database.
  const first = await startReplica(smtp.port);
  await startReplica(smtp.port);
  const started = Date.now();
  await fanOut(first, userIds);

  const byRecipient = await allReceived(smtp, MAILS);
  // The claims did outlast their lease (otherwise this proves nothing).
  expect(Date.now() - started).toBeGreaterThan(3 * LEASE_SECONDS * 1000);
  const copies = [...byRecipient.values()].map((ids) => ids.length);
  expect({ recipientsWithDuplicates: copies.filter((n) => n > 1).length, messages: smtp.count().messages }).toEqual({
    recipientsWithDuplicates: 0,
    messages: MAILS,
  });
}, 60_000);

it('a replica frozen longer than its lease: the other takes its mails over, and it sends none of them once it runs again', async () => {
  const smtp = (counter = await startMailCounter({ acceptDelayMs: 100 }));
  const mails = 200;
  // The first replica alone claims the whole fan-out (one claim of 200 mails, about 10 s).
  const frozen = await startReplica(smtp.port);
  await fanOut(frozen, userIds.slice(0, mails));
  const other = await startReplica(smtp.port);
  await waitForMessages(smtp, 60);

  frozen.signal('SIGSTOP');
  const atFreeze = smtp.count().messages;
  // Longer than the lease: the other replica takes the frozen one's mails over and sends them.
  await waitForMessages(smtp, atFreeze + 30, 15_000);
  frozen.signal('SIGCONT');

  const byRecipient = await allReceived(smtp, mails);
  expect(other.pid).not.toBe(frozen.pid);
  // Sent twice: at most the mails that were in an SMTP conversation at the instant of the
  // freeze (one per connection), each with its first copy's Message-ID.
  const duplicated = [...byRecipient.values()].filter((ids) => ids.length > 1);
  expect(duplicated.length).toBeLessThanOrEqual(CONNECTIONS);
  for (const ids of duplicated) expect(new Set(ids).size).toBe(1);
  expect(smtp.count().messages).toBe(mails + duplicated.reduce((sum, ids) => sum + ids.length - 1, 0));
}, 60_000);

async function waitForMessages(smtp: MailCounter, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (smtp.count().messages < count) {
    if (Date.now() > deadline) throw new Error(`received ${smtp.count().messages} mails, expected ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
