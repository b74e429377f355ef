import type * as grpc from '@grpc/grpc-js';
import { implement, type Logger } from '@assistants/kit';
import { BellServiceService, type BellServiceServer } from '@assistants/proto/gen/notification/v1/bell';
import { CalendarServiceService, type CalendarServiceServer } from '@assistants/proto/gen/notification/v1/calendar';
import { listMyNotifications, markAllNotificationsRead, markNotificationRead, sendNotifications } from './bell';
import type { Deps } from './deps';
import { addCalendarEvents, createCalendarFeed, getCalendarFeed, listMyAgenda, revokeCalendarFeed } from './calendar';

/** The gRPC services of bell notifications (U17) and calendar events (U19). Batches check
 * the acting user's scope on every user through identity; the "my" reads act on the acting
 * user's own data; GetCalendarFeed has no acting user (its token is the credential). */
export function bellCalendarGrpcServices(deps: Deps, logger: Logger): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const bell = implement<BellServiceServer>(logger, {
    sendNotifications: async (req, call) => ({ result: await sendNotifications(deps, call.actorId, req) }),
    listMyNotifications: (req, call) => listMyNotifications(deps, call.actorId, req),
    markNotificationRead: (req, call) => markNotificationRead(deps, call.actorId, req.id),
    markAllNotificationsRead: (_req, call) => markAllNotificationsRead(deps, call.actorId),
  });
  const calendar = implement<CalendarServiceServer>(logger, {
    addCalendarEvents: async (req, call) => ({ result: await addCalendarEvents(deps, call.actorId, req) }),
    listMyAgenda: (req, call) => listMyAgenda(deps, call.actorId, req),
    createCalendarFeed: (_req, call) => createCalendarFeed(deps, call.actorId),
    revokeCalendarFeed: (_req, call) => revokeCalendarFeed(deps, call.actorId),
    getCalendarFeed: (req) => getCalendarFeed(deps, req.token),
  });
  return [
    [BellServiceService, bell],
    [CalendarServiceService, calendar],
  ];
}
