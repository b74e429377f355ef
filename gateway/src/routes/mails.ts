import type { NotificationClient } from '@assistants/notification/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/** Mail templates and the mails that failed for good (the notification service decides). */
export const mailRoutes: FastifyPluginAsyncTypebox<{ notification: NotificationClient }> = async () => {};
