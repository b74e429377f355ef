import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { applyBatch, checkText, invalidArgument, isId, itemResult, notFound, type Emit } from '@assistants/kit';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import {
  CalendarEventAdded,
  type AddCalendarEventsRequest,
  type CreateCalendarFeedResponse,
  type GetCalendarFeedResponse,
  type ListMyAgendaRequest,
  type ListMyAgendaResponse,
} from '@assistants/proto/gen/notification/v1/calendar';
import ical from 'ical-generator';
import { PERMISSIONS } from './permissions';
import { requireActor } from './caller';
import type { Deps } from './deps';
import { batchUserIds, batchUsers, partitionUsers } from './batch-users';
import {
  calendarEventsOf,
  calendarFeedByHash,
  deleteCalendarFeed,
  insertCalendarEvents,
  replaceCalendarFeed,
  toCalendarEvent,
} from './calendar.repo';

/** An RFC 3339 date-time with its offset (a bare local time would mean a different instant
 * for every reader). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A feed carries the events that ended at most this long ago, and at most so many (a
 * calendar application fetches it again every few hours). */
const FEED_PAST_DAYS = 366;
const FEED_MAX_EVENTS = 5_000;

/** Whether the date part names a real day (Date takes 2027-02-30 for 2 March). */
function isCalendarDay(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

export function checkDateTime(field: string, value: string, optional = false): string | null {
  if (optional && value === '') return null;
  const instant = DATE_TIME.test(value) ? new Date(value) : null;
  if (!instant || Number.isNaN(instant.getTime()) || !isCalendarDay(value)) {
    throw invalidArgument(field, `${field} must be a date-time such as 2026-03-02T09:00:00Z, got ${JSON.stringify(value)}`);
  }
  return instant.toISOString();
}

export const calendarEvents = {
  added: (emit: Emit, e: CalendarEventAdded) =>
    emit('notification.calendar-event.added.v1', CalendarEventAdded.toJSON(e), `user:${e.event!.userId}`),
};

/** U19: the event in the agenda of each selected user the acting user may reach. */
export async function addCalendarEvents(deps: Deps, actorId: string, req: AddCalendarEventsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const name = checkText('name', req.name, { required: true, max: 200 });
  const description = checkText('description', req.description, { max: 2000 });
  const start = checkDateTime('start', req.start)!;
  const end = checkDateTime('end', req.end)!;
  if (end <= start) throw invalidArgument('end', 'end must be after start');
  const userIds = batchUserIds(req.userIds);
  const permission = PERMISSIONS.writeCalendarEvents;
  const users = await batchUsers(deps.upstreams.identity, userIds, permission);
  const { accepted, refused } = partitionUsers(userIds, users, permission);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const createdBy = isId(actorId) ? actorId : null;
    const rows = await insertCalendarEvents(tx, accepted, { name, description, start, end, createdBy });
    for (const row of rows) calendarEvents.added(emit, { event: toCalendarEvent(row) });
    return userIds.map((id) => refused.get(id) ?? itemResult.succeeded(id));
  });
}

/** The acting user's own events overlapping [from, to). */
export async function listMyAgenda(deps: Deps, actorId: string, req: ListMyAgendaRequest): Promise<ListMyAgendaResponse> {
  const userId = requireActor(actorId);
  const from = checkDateTime('from', req.from, true);
  const to = checkDateTime('to', req.to, true);
  if (from && to && to <= from) throw invalidArgument('to', 'to must be after from');
  const limit = req.limit === 0 ? 500 : req.limit;
  if (limit > 1000) throw invalidArgument('limit', 'limit is at most 1,000');
  const rows = await calendarEventsOf(deps.db, userId, { from, to, limit });
  return { events: rows.map(toCalendarEvent) };
}

const sha256 = (token: string): Buffer => createHash('sha256').update(token).digest();

/** A new feed token for the acting user (256 random bits), replacing the one it had. Only
 * its hash is stored: the token is answered here and never again. */
export async function createCalendarFeed(deps: Deps, actorId: string): Promise<CreateCalendarFeedResponse> {
  const userId = requireActor(actorId);
  const token = randomBytes(32).toString('base64url');
  const createdAt = await replaceCalendarFeed(deps.db, userId, sha256(token));
  return { token, createdAt: createdAt.toISOString() };
}

export async function revokeCalendarFeed(deps: Deps, actorId: string): Promise<{ revoked: boolean }> {
  return { revoked: await deleteCalendarFeed(deps.db, requireActor(actorId)) };
}

/** The iCalendar text of the feed this token opens. The token is looked up by its hash and
 * the hash compared in constant time: neither the lookup nor the comparison tells anything
 * about the token itself. */
export async function getCalendarFeed(deps: Deps, token: string): Promise<GetCalendarFeedResponse> {
  const unknown = () => notFound('no such calendar feed', 'token');
  if (!/^[\w-]{20,100}$/.test(token)) throw unknown();
  const hash = sha256(token);
  const feed = await calendarFeedByHash(deps.db, hash);
  if (!feed || feed.token_sha256.length !== hash.length || !timingSafeEqual(feed.token_sha256, hash)) throw unknown();
  const from = new Date(Date.now() - FEED_PAST_DAYS * 86_400_000).toISOString();
  const events = await calendarEventsOf(deps.db, feed.user_id, { from, to: null, limit: FEED_MAX_EVENTS });
  const calendar = ical({ name: 'Agenda', prodId: { company: 'Assistants', product: 'agenda', language: 'EN' } });
  for (const e of events) {
    calendar.createEvent({
      id: e.id,
      start: e.starts_at,
      end: e.ends_at,
      summary: e.name,
      description: e.description || undefined,
      stamp: e.created_at,
    });
  }
  return { ics: calendar.toString() };
}
