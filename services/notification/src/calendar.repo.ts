import type { Queryable } from '@assistants/kit';
import type { CalendarEvent } from '@assistants/proto/gen/notification/v1/calendar';

export type CalendarEventRow = {
  id: string;
  user_id: string;
  name: string;
  description: string;
  starts_at: Date;
  ends_at: Date;
  created_by: string | null;
  created_at: Date;
};

const COLUMNS = 'id, user_id, name, description, starts_at, ends_at, created_by, created_at';

export function toCalendarEvent(row: CalendarEventRow): CalendarEvent {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    description: row.description,
    start: row.starts_at.toISOString(),
    end: row.ends_at.toISOString(),
    createdBy: row.created_by ?? '',
    createdAt: row.created_at.toISOString(),
  };
}

export interface NewCalendarEvent {
  name: string;
  description: string;
  start: string;
  end: string;
  createdBy: string | null;
}

/** The same event in the agenda of each user, in one statement. */
export async function insertCalendarEvents(tx: Queryable, userIds: string[], event: NewCalendarEvent): Promise<CalendarEventRow[]> {
  if (userIds.length === 0) return [];
  const { rows } = await tx.query<CalendarEventRow>(
    `INSERT INTO calendar_events (user_id, name, description, starts_at, ends_at, created_by)
     SELECT u, $2, $3, $4, $5, $6 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, n) ORDER BY n
     RETURNING ${COLUMNS}`,
    [userIds, event.name, event.description, event.start, event.end, event.createdBy],
  );
  return rows;
}

/** The user's events overlapping [from, to) (null: no bound), by start. */
export async function calendarEventsOf(
  q: Queryable,
  userId: string,
  range: { from: string | null; to: string | null; limit: number },
): Promise<CalendarEventRow[]> {
  const { rows } = await q.query<CalendarEventRow>(
    `SELECT ${COLUMNS} FROM calendar_events
     WHERE user_id = $1 AND ($2::timestamptz IS NULL OR ends_at > $2) AND ($3::timestamptz IS NULL OR starts_at < $3)
     ORDER BY starts_at, id LIMIT $4`,
    [userId, range.from, range.to, range.limit],
  );
  return rows;
}

/** Gives the user this feed token hash, replacing (so revoking) the one it had. */
export async function replaceCalendarFeed(q: Queryable, userId: string, tokenSha256: Buffer): Promise<Date> {
  const { rows } = await q.query<{ created_at: Date }>(
    `INSERT INTO calendar_feeds (user_id, token_sha256) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = now()
     RETURNING created_at`,
    [userId, tokenSha256],
  );
  return rows[0]!.created_at;
}

export async function deleteCalendarFeed(q: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM calendar_feeds WHERE user_id = $1', [userId]);
  return (rowCount ?? 0) > 0;
}

/** The feed whose token has this hash, if any. */
export async function calendarFeedByHash(
  q: Queryable,
  tokenSha256: Buffer,
): Promise<{ user_id: string; token_sha256: Buffer } | undefined> {
  const { rows } = await q.query<{ user_id: string; token_sha256: Buffer }>(
    'SELECT user_id, token_sha256 FROM calendar_feeds WHERE token_sha256 = $1',
    [tokenSha256],
  );
  return rows[0];
}
