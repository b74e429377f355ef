import { randomUUID } from 'node:crypto';
import {
  actingAs,
  startIdentityFixture,
  startNotificationProcess,
  startSmtpSink,
  type IdentityFixture,
  type NotificationProcess,
  type SmtpSink,
} from '@assistants/testing';
import { createRecipients } from './recipients';

const MAILS = 1_000;
const CONNECTIONS = 5;

let fixture: IdentityFixture;
let smtp: SmtpSink;
let notification: NotificationProcess | undefined;

beforeAll(async () => {
  fixture = await startIdentityFixture('notification_kill');
  smtp = await startSmtpSink();
}, 60_000);

afterAll(async () => {
  await notification?.stop();
  await smtp?.stop();
  await fixture?.stop();
});

it('a 1,000-mail fan-out survives SIGKILL of the service: none lost, duplicates only from the instant of the kill, with the same Message-ID', async () => {
  const userIds: string[] = [];
  userIds.push(...(await createRecipients(fixture, MAILS, 'fan')));
  notification = await startNotificationProcess({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    smtpPort: smtp.port,
    env: {
      NOTIFICATION_MAILS_PER_SECOND: '250',
      NOTIFICATION_SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
      // The killed replica's claim comes back soon.
      NOTIFICATION_SENDER_LEASE_SECONDS: '2',
    },
  });
  const api = actingAs(notification.client, fixture.adminId);
  const { result } = await api.mails.sendMails({
    batch: { idempotencyKey: `fan-out:${randomUUID()}`, dryRun: false },
    userIds,
    templateId: '',
    content: { subject: 'Fan-out {{ user.first_name }}', html: '', text: 'Hello {{ user.first_name }}' },
  });
  expect(result!.results.filter((r) => r.code === '')).toHaveLength(MAILS);

  // Killed in the middle of the sending.
  await smtp.waitFor(300, 30_000);
  await notification.kill('SIGKILL');
  const atKill = smtp.received.length;
  expect(atKill).toBeLessThan(MAILS);
  await notification.restart();

  const deadline = Date.now() + 60_000;
  const distinct = () => new Set(smtp.received.map((m) => m.to[0])).size;
  while (distinct() < MAILS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));

  // None lost.
  expect(distinct()).toBe(MAILS);
  // Duplicates: at most the mails in flight when it was killed, each with its first copy's
  // Message-ID (a receiver can drop it).
  const byRecipient = new Map<string, string[]>();
  for (const m of smtp.received) byRecipient.set(m.to[0]!, [...(byRecipient.get(m.to[0]!) ?? []), m.messageId]);
  const duplicated = [...byRecipient.values()].filter((ids) => ids.length > 1);
  expect(duplicated.length).toBeLessThanOrEqual(CONNECTIONS);
  for (const ids of duplicated) expect(new Set(ids).size).toBe(1);
  expect(smtp.received.length).toBe(MAILS + duplicated.reduce((sum, ids) => sum + ids.length - 1, 0));
}, 180_000);
