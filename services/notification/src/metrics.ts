import { counter, scrapedGauge, type Database } from '@assistants/kit';

/** sent: accepted by the SMTP server; retried: refused for now, sent again later; failed:
 * refused for good, out of attempts, or not renderable. */
const mails = counter('assistants_mails_total', 'mails the senders handled, by outcome', ['outcome']);

export function countMail(outcome: 'sent' | 'retried' | 'failed'): void {
  mails.inc({ outcome });
}

const queued = scrapedGauge('assistants_mails_queued', 'mails queued, due now or later');
const oldestDue = scrapedGauge(
  'assistants_mail_oldest_due_age_seconds',
  'how long the longest-waiting due mail has been due (0 when none)',
);

/** The mail queue, read at each scrape. */
export async function collectMailMetrics(db: Database): Promise<void> {
  const { rows } = await db.query<{ n: string; overdue: string | null }>(
    `SELECT count(*) AS n, extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now())) AS overdue
       FROM mails WHERE status = 'queued'`,
  );
  queued.set(Number(rows[0]?.n ?? 0));
  oldestDue.set(Math.max(0, Number(rows[0]?.overdue ?? 0)));
}
