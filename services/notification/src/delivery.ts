import { randomUUID } from 'node:crypto';
import type { Database, Logger, SecretBox } from '@assistants/kit';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationConfig } from './config';
import { performance } from 'node:perf_hooks';
import { claimMails, markFailed, markRetry, markSent, pruneSent, renewLease, type ClaimedMail } from './mails.repo';
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
 * A sender's claim on one batch: the mails still its own, and a local deadline never later than
 * their lease in the database (the monotonic clock read before the claim or renewal was sent,
 * plus the lease). A mail goes to the SMTP server only with at least half a lease left; with
 * less, the claim is first renewed for all its unfinished mails in one statement, and those
 * another replica took over meanwhile (this process was starved or frozen longer than the
 * lease) are dropped: their new owner sends them.
 */
class Claim {
  private queue: ClaimedMail[];
  /** The mails not finished: queued here, or being sent. */
  private readonly held: Set<string>;
  private endsAt: number;
  private renewing?: Promise<void>;
  /** Mails this sender will not send: another replica took them over. */
  takenOver = 0;
  /** A renewal failed, or came too late: nothing more is sent on this claim. */
  givenUp = false;

  constructor(
    mails: ClaimedMail[],
    claimedAt: number,
    private readonly leaseMs: number,
    private readonly renew: (ids: string[]) => Promise<Set<string>>,
    private readonly logger: Logger,
  ) {
    this.queue = [...mails];
    this.held = new Set(mails.map((m) => m.id));
    this.endsAt = claimedAt + leaseMs;
  }

  next(): ClaimedMail | undefined {
    return this.givenUp ? undefined : this.queue.shift();
  }

  /** Whether the mail may go to the SMTP server now (still this sender's, with time to spare). */
  async mayDeliver(id: string): Promise<boolean> {
    if (performance.now() > this.endsAt - this.leaseMs / 2) {
      // One renewal for all the connections waiting here.
      this.renewing ??= this.renewNow().finally(() => (this.renewing = undefined));
      await this.renewing;
    }
    if (this.givenUp) return false;
    if (this.held.has(id)) return true;
    this.takenOver++;
    return false;
  }

  /** Its outcome is recorded (or recording it failed for good): never handed back. */
  done(id: string): void {
    this.held.delete(id);
  }

  /** The mails not sent, once the connections stopped: to hand back. */
  unsent(): string[] {
    return [...this.held];
  }

  private async renewNow(): Promise<void> {
    const sentAt = performance.now();
    let kept: Set<string>;
    try {
      kept = await this.renew([...this.held]);
    } catch (err) {
      this.logger.warn({ err }, 'cannot renew the claim on a batch of mails: its unsent mails are handed back');
      this.givenUp = true;
      return;
    }
    this.endsAt = sentAt + this.leaseMs;
    for (const id of this.held) if (!kept.has(id)) this.held.delete(id);
    const left = this.queue.filter((m) => kept.has(m.id));
    this.takenOver += this.queue.length - left.length;
    this.queue = left;
    if (performance.now() > this.endsAt - this.leaseMs / 2) {
      this.logger.warn('renewing the claim on a batch of mails took more than half the lease: its unsent mails are handed back');
      this.givenUp = true;
    }
  }
}

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
      // Read before the claim is sent: the lease runs out no sooner than this plus the lease.
      const claimedAt = performance.now();
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
      const claim = new Claim(
        mails,
        claimedAt,
        config.NOTIFICATION_SENDER_LEASE_SECONDS * 1000,
        (ids) => renewLease(db, this.owner, ids, config.NOTIFICATION_SENDER_LEASE_SECONDS),
        logger,
      );
      const worker = async () => {
        for (let mail = claim.next(); mail; mail = claim.next()) {
          if (this.stopped) return;
          await this.pace();
          // Checked last, right before the SMTP server gets it: a mail whose lease may run out
          // during its conversation could be sent by another replica too.
          if (!(await claim.mayDeliver(mail.id))) continue;
          await this.deliver(mail).catch((err) => logger.error({ err, mailId: mail!.id }, 'recording a mail’s outcome failed'));
          claim.done(mail.id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.NOTIFICATION_SMTP_MAX_CONNECTIONS, mails.length) }, worker));
      if (claim.takenOver > 0) {
        logger.warn({ mails: claim.takenOver }, 'this sender was slower than its lease: another replica took mails of its claim over');
      }
      // Stopping, or the claim given up: the mails not sent go back to the queue at once, for another replica.
      const unsent = claim.unsent();
      if (unsent.length > 0) {
        await db
          .query(
            `UPDATE mails SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 WHERE id = ANY($1::uuid[]) AND lease_owner = $2`,
            [unsent, this.owner],
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
