import { randomUUID } from 'node:crypto';
import type { Database, Logger, SecretBox } from '@assistants/kit';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationConfig } from './config';
import { claimMails, markFailed, markRetry, markSent, pruneSent, type ClaimedMail } from './mails.repo';
import { countMail } from './metrics';
import { render } from './templates';

/** How a send ended, from nodemailer's error (SMTP reply code, or a connection error). */
export function classify(err: unknown): { permanent: boolean; reason: string } {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  if (typeof e.responseCode === 'number') {
    const reason = (e.response ?? `${e.responseCode}`).slice(0, 1000);
    return { permanent: e.responseCode >= 500, reason };
  }
  // An address nodemailer cannot use will never work; a connection problem may pass.
  if (e.code === 'EENVELOPE') return { permanent: true, reason: e.message ?? 'invalid envelope' };
  return { permanent: false, reason: `${e.code ?? 'ERROR'}: ${e.message ?? String(err)}`.slice(0, 1000) };
}

/** retryInitial × 2^(attempts - 1), at most retryMax, with ±20 % jitter so that replicas
 * do not retry in step. */
export function retryDelayMs(attempts: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The sender of one replica: claims due mails (FOR UPDATE SKIP LOCKED, with a lease), renders
 * each (the welcome password decrypted only now, in memory), sends it through the pooled SMTP
 * transport at the configured rate, and records the outcome in its own short statement right
 * after the server's answer. Every replica runs one; they share the queue.
 */
export class MailSender {
  readonly owner = `sender:${randomUUID()}`;
  private readonly transport: Transporter;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private nextSlotAt = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: { db: Database; config: NotificationConfig; box: SecretBox; logger: Logger }) {
    const c = options.config;
    this.transport = nodemailer.createTransport({
      host: c.NOTIFICATION_SMTP_HOST,
      port: c.NOTIFICATION_SMTP_PORT,
      secure: c.NOTIFICATION_SMTP_SECURE,
      requireTLS: c.NOTIFICATION_SMTP_REQUIRE_TLS,
      auth: c.NOTIFICATION_SMTP_USER ? { user: c.NOTIFICATION_SMTP_USER, pass: c.NOTIFICATION_SMTP_PASSWORD ?? '' } : undefined,
      pool: true,
      maxConnections: c.NOTIFICATION_SMTP_MAX_CONNECTIONS,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      // nodemailer logs nothing (a message's content must not reach the logs).
      logger: false,
    });
    this.intervalMs = 1000 / c.NOTIFICATION_MAILS_PER_SECOND;
    // What this replica can send well within a lease.
    this.batchSize = Math.max(1, Math.min(200, Math.floor((c.NOTIFICATION_MAILS_PER_SECOND * c.NOTIFICATION_SENDER_LEASE_SECONDS) / 4)));
  }

  start(): void {
    this.loop = this.run();
  }

  /** Something was queued: look now rather than at the next poll. */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.transport.close();
  }

  private async run(): Promise<void> {
    const { db, config, logger } = this.options;
    let prunedAt = 0;
    while (!this.stopped) {
      if (Date.now() - prunedAt > 3_600_000) {
        prunedAt = Date.now();
        await pruneSent(db, config.NOTIFICATION_SENT_KEEP_DAYS).catch((err) => logger.warn({ err }, 'pruning sent mails failed'));
      }
      let mails: ClaimedMail[] = [];
      try {
        mails = await claimMails(db, this.owner, this.batchSize, config.NOTIFICATION_SENDER_LEASE_SECONDS);
      } catch (err) {
        logger.warn({ err }, 'cannot claim mails: trying again');
      }
      if (mails.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.NOTIFICATION_SENDER_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      const queue = [...mails];
      const worker = async () => {
        for (let mail = queue.shift(); mail; mail = queue.shift()) {
          if (this.stopped) return;
          await this.pace();
          await this.deliver(mail).catch((err) => logger.error({ err, mailId: mail!.id }, 'recording a mail’s outcome failed'));
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.NOTIFICATION_SMTP_MAX_CONNECTIONS, mails.length) }, worker));
      // Stopping: the mails not sent yet go back to the queue at once, for another replica.
      if (queue.length > 0) {
        await db
          .query(
            `UPDATE mails SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 WHERE id = ANY($1::uuid[]) AND lease_owner = $2`,
            [queue.map((m) => m.id), this.owner],
          )
          .catch(() => {});
      }
    }
  }

  /** The sending rate: one slot every 1/rate seconds, shared by the connections. */
  private async pace(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = at + this.intervalMs;
    if (at > now) await sleep(at - now);
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    const { db, config, box, logger } = this.options;
    let rendered;
    try {
      const data = mail.secret ? { ...mail.data, password: box.open(mail.secret, mail.id) } : mail.data;
      rendered = render(mail.parts, data);
    } catch (err) {
      await markFailed(db, mail.id, this.owner, `cannot render the mail: ${(err as Error).message}`);
      countMail('failed');
      return;
    }
    try {
      await this.transport.sendMail({
        from: config.NOTIFICATION_MAIL_FROM,
        to: mail.to,
        subject: rendered.subject,
        html: rendered.html || undefined,
        text: rendered.text || undefined,
        // The same mail always has the same Message-ID: a receiver can drop the duplicate of
        // a mail sent again after a kill (see the README).
        messageId: `<${mail.id}@${config.NOTIFICATION_MESSAGE_ID_DOMAIN}>`,
      });
    } catch (err) {
      const { permanent, reason } = classify(err);
      if (permanent || mail.attempts >= config.NOTIFICATION_MAX_ATTEMPTS) {
        logger.warn({ mailId: mail.id, attempts: mail.attempts, reason }, 'a mail failed for good');
        await markFailed(db, mail.id, this.owner, reason);
        countMail('failed');
      } else {
        logger.info({ mailId: mail.id, attempts: mail.attempts, reason }, 'a mail was not accepted: it will be retried');
        await markRetry(
          db,
          mail.id,
          this.owner,
          reason,
          retryDelayMs(mail.attempts, config.NOTIFICATION_RETRY_INITIAL_MS, config.NOTIFICATION_RETRY_MAX_MS),
        );
        countMail('retried');
      }
      return;
    }
    countMail('sent');
    // Accepted: recorded at once. A database hiccup now must not send it again: insist.
    for (let attempt = 1; ; attempt++) {
      try {
        return await markSent(db, mail.id, this.owner);
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(200 * attempt);
      }
    }
  }
}
