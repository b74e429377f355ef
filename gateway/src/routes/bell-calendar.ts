import { failedPrecondition, notFound, type PromiseClient } from '@assistants/kit';
import type { BellNotification, BellServiceClient } from '@assistants/proto/gen/notification/v1/bell';
import type { CalendarEvent, CalendarServiceClient } from '@assistants/proto/gen/notification/v1/calendar';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdParams, NoContent, responses } from '../schemas/common';

/** The clients these routes use (the notification service's bell and calendar services). */
export interface BellCalendarClients {
  bell: PromiseClient<BellServiceClient>;
  calendar: PromiseClient<CalendarServiceClient>;
}

const Notification = Type.Object(
  {
    id: Type.String(),
    text: Type.String({ description: 'plain text, at most 500 characters' }),
    sentBy: Type.String({ description: 'the administrator who sent it ("" when unknown)' }),
    createdAt: Type.String({ format: 'date-time' }),
    readAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null while unread' }),
  },
  { $id: 'BellNotification' },
);

const AgendaEvent = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    start: Type.String({ format: 'date-time' }),
    end: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'AgendaEvent' },
);

export const BELL_CALENDAR_SCHEMAS = [Notification, AgendaEvent];

const toHttpNotification = (n: BellNotification) => ({
  id: n.id,
  text: n.text,
  sentBy: n.sentBy,
  createdAt: n.createdAt,
  readAt: n.readAt || null,
});

const toHttpEvent = (e: CalendarEvent) => ({
  id: e.id,
  name: e.name,
  description: e.description,
  start: e.start,
  end: e.end,
  createdAt: e.createdAt,
});

const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339, e.g. 2026-03-02T09:00:00Z' });

/** A feed file name: the token (base64url) and ".ics". */
const FEED_FILE = /^([\w-]{20,100})\.ics$/;

/**
 * What the logged-in user reads of its own: its bell notifications (U17) and its agenda
 * (U19), and the secret address of its iCalendar feed. Each route acts on the caller's own
 * data only (another user's notification id is a 404). The feed itself
 * (GET /v1/calendar/<token>.ics) is the one route without credentials: calendar
 * applications cannot send them, so the unguessable token in its address is the credential.
 */
export const bellCalendarRoutes: FastifyPluginAsyncTypebox<{ notification: BellCalendarClients }> = async (app, { notification }) => {
  // Identity refuses everything but a password change to a user whose password an
  // administrator set; these reads do not go through identity, so the same rule is kept here.
  app.addHook('preHandler', async (request) => {
    if (request.principal?.mustChangePassword) {
      throw failedPrecondition('your password was set by an administrator: change it before anything else');
    }
  });

  app.get(
    '/v1/me/notifications',
    {
      schema: {
        tags: ['me'],
        summary: 'My bell notifications, newest first, with how many are unread',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
          },
          { additionalProperties: false },
        ),
        response: responses({
          200: Type.Object({
            items: Type.Array(Type.Ref(Notification)),
            total: Type.Integer(),
            unread: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
        }),
      },
    },
    async (request) => {
      const page = await notification.bell.listMyNotifications({ limit: request.query.limit ?? 50, offset: request.query.offset ?? 0 });
      return {
        items: page.notifications.map(toHttpNotification),
        total: page.total,
        unread: page.unread,
        limit: page.limit,
        offset: page.offset,
      };
    },
  );

  app.post(
    '/v1/me/notifications/:id/read',
    {
      schema: {
        tags: ['me'],
        summary: 'Mark one of my notifications as read',
        params: IdParams,
        response: responses({ 200: Type.Ref(Notification) }),
      },
    },
    async (request) => toHttpNotification((await notification.bell.markNotificationRead({ id: request.params.id })).notification!),
  );

  app.post(
    '/v1/me/notifications/read-all',
    {
      schema: {
        tags: ['me'],
        summary: 'Mark all my notifications as read',
        response: responses({ 200: Type.Object({ marked: Type.Integer({ description: 'how many were unread' }) }) }),
      },
    },
    async () => notification.bell.markAllNotificationsRead({}),
  );

  app.get(
    '/v1/me/agenda',
    {
      schema: {
        tags: ['me'],
        summary: 'My calendar events that overlap [from, to), by start',
        querystring: Type.Object(
          {
            from: Type.Optional(DateTime),
            to: Type.Optional(DateTime),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(AgendaEvent)) }) }),
      },
    },
    async (request) => {
      const { from = '', to = '', limit = 500 } = request.query;
      const { events } = await notification.calendar.listMyAgenda({ from, to, limit });
      return { items: events.map(toHttpEvent) };
    },
  );

  app.post(
    '/v1/me/calendar-feed',
    {
      schema: {
        tags: ['me'],
        summary: 'Give me a secret iCalendar feed address (revoking the one I had)',
        description:
          'Answers the address once: only a hash of its token is kept. Anyone who has the address reads the agenda, ' +
          'without credentials (calendar applications cannot send them): keep it secret, and call again or DELETE to revoke it.',
        response: responses({
          201: Type.Object({
            url: Type.String({ description: 'the absolute address, as this request reached the API' }),
            path: Type.String({ description: '/v1/calendar/<token>.ics' }),
            createdAt: Type.String({ format: 'date-time' }),
          }),
        }),
      },
    },
    async (request, reply) => {
      const feed = await notification.calendar.createCalendarFeed({});
      const path = `/v1/calendar/${feed.token}.ics`;
      return reply.code(201).send({ url: `${request.protocol}://${request.host}${path}`, path, createdAt: feed.createdAt });
    },
  );

  app.delete(
    '/v1/me/calendar-feed',
    {
      schema: {
        tags: ['me'],
        summary: 'Revoke my iCalendar feed address (its address answers 404 from now on)',
        response: responses({ 204: NoContent }),
      },
    },
    async (_request, reply) => {
      await notification.calendar.revokeCalendarFeed({});
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/calendar/:file',
    {
      schema: {
        tags: ['me'],
        summary: "A user's agenda as an iCalendar feed (text/calendar), for calendar applications",
        description:
          'Needs no credentials: the address given by POST /v1/me/calendar-feed is the credential. An unknown or revoked ' +
          'address answers 404.',
        params: Type.Object({ file: Type.String({ maxLength: 120, description: '<token>.ics' }) }, { additionalProperties: false }),
        security: [],
        response: responses({ 200: Type.String({ description: 'text/calendar' }) }),
      },
      config: { anonymous: true },
    },
    async (request, reply) => {
      const match = FEED_FILE.exec(request.params.file);
      if (!match) throw notFound('no such calendar feed', 'file');
      const { ics } = await notification.calendar.getCalendarFeed({ token: match[1]! });
      return reply
        .header('content-type', 'text/calendar; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .header('referrer-policy', 'no-referrer')
        .send(ics);
    },
  );
};
