import type { Queryable } from '@assistants/kit';
import type { BellNotification } from '@assistants/proto/gen/notification/v1/bell';

export type BellNotificationRow = {
  id: string;
  user_id: string;
  text: string;
  sent_by: string | null;
  created_at: Date;
  read_at: Date | null;
};

const COLUMNS = 'id, user_id, text, sent_by, created_at, read_at';

export function toBellNotification(row: BellNotificationRow): BellNotification {
  return {
    id: row.id,
    userId: row.user_id,
    text: row.text,
    sentBy: row.sent_by ?? '',
    createdAt: row.created_at.toISOString(),
    readAt: row.read_at?.toISOString() ?? '',
  };
}

/** One notification with `text` for each user, in one statement. */
export async function insertBellNotifications(
  tx: Queryable,
  userIds: string[],
  text: string,
  sentBy: string | null,
): Promise<BellNotificationRow[]> {
  if (userIds.length === 0) return [];
  const { rows } = await tx.query<BellNotificationRow>(
    `INSERT INTO bell_notifications (user_id, text, sent_by)
     SELECT u, $2, $3 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, n) ORDER BY n
     RETURNING ${COLUMNS}`,
    [userIds, text, sentBy],
  );
  return rows;
}

/** A page of the user's notifications, newest first, with the total and unread counts. */
export async function bellNotificationsOf(
  q: Queryable,
  userId: string,
  limit: number,
  offset: number,
): Promise<{ rows: BellNotificationRow[]; total: number; unread: number }> {
  const [page, counts] = await Promise.all([
    q.query<BellNotificationRow>(`SELECT ${COLUMNS} FROM bell_notifications WHERE user_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3`, [
      userId,
      limit,
      offset,
    ]),
    q.query<{ total: number; unread: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE read_at IS NULL))::int AS unread
       FROM bell_notifications WHERE user_id = $1`,
      [userId],
    ),
  ]);
  return { rows: page.rows, ...counts.rows[0]! };
}

/** Marks the user's notification read (kept as first read when it already was); undefined
 * when the user has no notification with this id. */
export async function markBellNotificationRead(q: Queryable, userId: string, id: string): Promise<BellNotificationRow | undefined> {
  const { rows } = await q.query<BellNotificationRow>(
    `UPDATE bell_notifications SET read_at = coalesce(read_at, now())
     WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    [id, userId],
  );
  return rows[0];
}

export async function markAllBellNotificationsRead(q: Queryable, userId: string): Promise<number> {
  const { rowCount } = await q.query('UPDATE bell_notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL', [userId]);
  return rowCount ?? 0;
}
