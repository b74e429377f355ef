import { join } from 'node:path';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceDefinition } from '@assistants/kit';
import { NotificationConfigSchema } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { bellCalendarGrpcServices } from './bell-calendar-grpc';
import { BELL_CALENDAR_PERMISSION_DECLARATIONS } from './bell-calendar-permissions';
import { notificationGrpcServices } from './grpc';
import { NOTIFICATION_PERMISSIONS } from './permissions';
import type { Upstreams } from './upstreams';

/** The notification service: mail templates, the mail queue and its SMTP delivery; bell
 * notifications and calendar events (with their iCalendar feeds). Identity
 * is its authority and knows the users mails go to. The kit runs it (see main.ts). */
export const notificationService: ServiceDefinition<(typeof NotificationConfigSchema)['properties'], Upstreams> = {
  name: 'notification',
  defaultPort: 50054,
  config: NotificationConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: [...NOTIFICATION_PERMISSIONS, ...BELL_CALENDAR_PERMISSION_DECLARATIONS],
  upstreams: (config, settings) => {
    const identity = identityClient(config.IDENTITY_ADDRESS, {
      security: settings.security,
      timeoutMs: config.NOTIFICATION_UPSTREAM_TIMEOUT_MS,
    });
    return { identity, close: () => identity.close() };
  },
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  grpc: ({ db, outbox, upstreams, config, logger }) => [
    ...notificationGrpcServices({ db, outbox, upstreams, config }, logger),
    ...bellCalendarGrpcServices({ db, outbox, upstreams }, logger),
  ],
};
