import { randomUUID } from 'node:crypto';
import type { Queryable } from '@assistants/kit';
import type { MailContext, MailData, MailParts } from './templates';

/** A mail to queue: the sources of its parts (rendered when sent) and the values of its fields. */
export interface NewMail {
  /** Set beforehand when something (a sealed password) is bound to it. */
  id?: string;
  source: string;
  recipientId: string;
  context: MailContext;
  templateId: string | null;
  to: string;
  language: string;
  parts: MailParts;
  data: MailData;
  secret?: Buffer;
  /** Recorded as failed for good at once with this reason (e.g. its template was deleted). */
  failure?: string;
}

/** Queues the mails in one statement; a (source, recipient) already queued is left as it is.
 * Returns the recipients newly queued. */
export async function queueMails(tx: Queryable, mails: NewMail[]): Promise<Set<string>> {
  if (mails.length === 0) return new Set();
  const { rows } = await tx.query<{ recipient_id: string }>(
    `INSERT INTO mails (id, source, recipient_id, context, template_id, to_address, language, subject, html, text_body, data, secret,
                       status, last_error, failed_at)
     SELECT id, source, recipient_id, context, template_id, to_address, language, subject, html, text_body, data, secret,
            CASE WHEN failure IS NULL THEN 'queued' ELSE 'failed' END, coalesce(failure, ''),
            CASE WHEN failure IS NULL THEN NULL ELSE now() END
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
                 $10::text[], $11::jsonb[], $12::bytea[], $13::text[])
          AS t(id, source, recipient_id, context, template_id, to_address, language, subject, html, text_body, data, secret, failure)
     ON CONFLICT (source, recipient_id) DO NOTHING
     RETURNING recipient_id`,
    [
      mails.map((m) => m.id ?? randomUUID()),
      mails.map((m) => m.source),
      mails.map((m) => m.recipientId),
      mails.map((m) => m.context),
      mails.map((m) => m.templateId),
      mails.map((m) => m.to),
      mails.map((m) => m.language),
      mails.map((m) => m.parts.subject),
      mails.map((m) => m.parts.html),
      mails.map((m) => m.parts.text),
      mails.map((m) => JSON.stringify(m.data)),
      mails.map((m) => m.secret ?? null),
      mails.map((m) => m.failure ?? null),
    ],
  );
  return new Set(rows.map((r) => r.recipient_id));
}

export interface ClaimedMail {
  id: string;
  source: string;
  context: MailContext;
  to: string;
  parts: MailParts;
  data: MailData;
  secret: Buffer | null;
  attempts: number;
}

/** Takes up to `limit` due mails for `owner` until the lease runs out (another replica takes
 * over a killed one's mails then). SKIP LOCKED: replicas never wait on each other's rows. */
export async function claimMails(db: Queryable, owner: string, limit: number, leaseSeconds: number): Promise<ClaimedMail[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `UPDATE mails m SET lease_owner = $1, lease_until = now() + make_interval(secs => $3), attempts = m.attempts + 1
     FROM (SELECT id FROM mails
           WHERE status = 'queued' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) due
     WHERE m.id = due.id
     RETURNING m.id, m.source, m.context, m.to_address, m.subject, m.html, m.text_body, m.data, m.secret, m.attempts`,
    [owner, limit, leaseSeconds],
  );
  return rows.map((r) => ({
    id: r.id as string,
    source: r.source as string,
    context: r.context as MailContext,
    to: r.to_address as string,
    parts: { subject: r.subject as string, html: r.html as string, text: r.text_body as string },
    data: r.data as MailData,
    secret: (r.secret as Buffer | null) ?? null,
    attempts: r.attempts as number,
  }));
}

/** Extends the lease on those of `ids` that are still `owner`'s and queued, and returns them:
 * a mail another replica took over (this one's lease had run out) is no longer its own. */
export async function renewLease(db: Queryable, owner: string, ids: string[], leaseSeconds: number): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE mails SET lease_until = now() + make_interval(secs => $3)
     WHERE lease_owner = $1 AND status = 'queued' AND id = ANY($2::uuid[])
     RETURNING id`,
    [owner, ids, leaseSeconds],
  );
  return new Set(rows.map((r) => r.id));
}

/** The SMTP server accepted it: sent, and its password (if any) wiped. Only while the lease
 * is still this replica's. */
export async function markSent(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(
    `UPDATE mails SET status = 'sent', sent_at = now(), secret = NULL, lease_owner = NULL, lease_until = NULL, last_error = ''
     WHERE id = $1 AND lease_owner = $2`,
    [id, owner],
  );
}

/** Refused for now or unreachable: due again after `delayMs`. */
export async function markRetry(db: Queryable, id: string, owner: string, reason: string, delayMs: number): Promise<void> {
  await db.query(
    `UPDATE mails SET next_attempt_at = now() + make_interval(secs => $4 / 1000.0), last_error = $3, lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND lease_owner = $2`,
    [id, owner, reason, delayMs],
  );
}

export async function markFailed(db: Queryable, id: string, owner: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE mails SET status = 'failed', failed_at = now(), last_error = $3, lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND lease_owner = $2`,
    [id, owner, reason],
  );
}

export interface FailedMailRow {
  id: string;
  data: MailData;
  recipientId: string;
  to: string;
  subject: string;
  reason: string;
  attempts: number;
  failedAt: string;
  source: string;
  context: MailContext;
}

/** Newest first; the cursor is the last row's id. */
export async function listFailed(db: Queryable, limit: number, after: string): Promise<{ rows: FailedMailRow[]; nextCursor: string }> {
  const uuid = /^[0-9a-f-]{36}$/i.test(after) ? after : null;
  const { rows } = await db.query<FailedMailRow & Record<string, unknown>>(
    `SELECT id, data, recipient_id AS "recipientId", to_address AS "to", subject, last_error AS reason, attempts,
            to_char(failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "failedAt", source, context
     FROM mails
     WHERE status = 'failed' AND ($1::uuid IS NULL OR (failed_at, id) < (SELECT failed_at, id FROM mails WHERE id = $1))
     ORDER BY failed_at DESC, id DESC LIMIT $2`,
    [uuid, limit + 1],
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: more ? page[page.length - 1]!.id : '' };
}

/** Forgets sent mails older than `days` (longer than any redelivery of their cause: the
 * unique key must outlive it). */
export async function pruneSent(db: Queryable, days: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM mails WHERE status = 'sent' AND sent_at < now() - make_interval(days => $1)`, [days]);
  return rowCount ?? 0;
}

/** Queues failed mails again, their attempts starting over. Returns the ids retried. */
export async function retryFailed(db: Queryable, ids: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE mails SET status = 'queued', attempts = 0, next_attempt_at = now(), failed_at = NULL
     WHERE status = 'failed' AND id = ANY($1::uuid[]) RETURNING id`,
    [ids],
  );
  return rows.map((r) => r.id);
}
