import { applyBatch, checkText, invalidArgument, isId, itemResult, notFound, type Emit } from '@assistants/kit';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import {
  BellNotificationSent,
  type ListMyNotificationsResponse,
  type MarkAllNotificationsReadResponse,
  type MarkNotificationReadResponse,
  type SendNotificationsRequest,
} from '@assistants/proto/gen/notification/v1/bell';
import { PERMISSIONS } from './permissions';
import { batchUserIds, batchUsers, partitionUsers } from './batch-users';
import {
  bellNotificationsOf,
  insertBellNotifications,
  markAllBellNotificationsRead,
  markBellNotificationRead,
  toBellNotification,
} from './bell.repo';
import { requireActor } from './caller';
import type { Deps } from './deps';

/** A notification is a short plain text (the front office shows it as text under the bell). */
export const BELL_TEXT_MAX = 500;

/** Markup is refused rather than shown as tags: whoever writes one expects it rendered. */
const MARKUP = /<\/?[a-z!][^>]*>|&(?:[a-z]+|#\d+|#x[0-9a-f]+);/i;

export function checkBellText(value: string): string {
  const text = checkText('text', value, { required: true, max: BELL_TEXT_MAX });
  if (MARKUP.test(text)) throw invalidArgument('text', 'text is plain text: no HTML tags or entities');
  return text;
}

export const bellEvents = {
  sent: (emit: Emit, e: BellNotificationSent) =>
    emit('notification.bell.sent.v1', BellNotificationSent.toJSON(e), `user:${e.notification!.userId}`),
};

/** U17: one notification with the text for each selected user the acting user may reach. */
export async function sendNotifications(deps: Deps, actorId: string, req: SendNotificationsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const text = checkBellText(req.text);
  const userIds = batchUserIds(req.userIds);
  const permission = PERMISSIONS.sendNotifications;
  const users = await batchUsers(deps.upstreams.identity, userIds, permission);
  const { accepted, refused } = partitionUsers(userIds, users, permission);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const rows = await insertBellNotifications(tx, accepted, text, isId(actorId) ? actorId : null);
    for (const row of rows) bellEvents.sent(emit, { notification: toBellNotification(row) });
    return userIds.map((id) => refused.get(id) ?? itemResult.succeeded(id));
  });
}

/** The acting user's own notifications, newest first. */
export async function listMyNotifications(
  deps: Deps,
  actorId: string,
  page: { limit: number; offset: number },
): Promise<ListMyNotificationsResponse> {
  const userId = requireActor(actorId);
  const limit = page.limit === 0 ? 50 : page.limit;
  if (limit > 500) throw invalidArgument('limit', 'limit is at most 500');
  if (page.offset > 10_000) throw invalidArgument('offset', 'offset is at most 10,000');
  const { rows, total, unread } = await bellNotificationsOf(deps.db, userId, limit, page.offset);
  return { notifications: rows.map(toBellNotification), total, unread, limit, offset: page.offset };
}

/** Marks one of the acting user's notifications read; another user's is as if it did not exist. */
export async function markNotificationRead(deps: Deps, actorId: string, id: string): Promise<MarkNotificationReadResponse> {
  const userId = requireActor(actorId);
  const row = isId(id) ? await markBellNotificationRead(deps.db, userId, id.toLowerCase()) : undefined;
  if (!row) throw notFound(`no notification ${id}`, 'id');
  return { notification: toBellNotification(row) };
}

export async function markAllNotificationsRead(deps: Deps, actorId: string): Promise<MarkAllNotificationsReadResponse> {
  return { marked: await markAllBellNotificationsRead(deps.db, requireActor(actorId)) };
}
