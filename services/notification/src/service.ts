import { join } from 'node:path';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { ensureStream, SecretBox, type ServiceContext, type ServiceDefinition } from '@assistants/kit';
import { ASSIGNMENT_STREAM, assignmentMailsConsumer, STATISTICS_STREAM, statisticsMailsConsumer } from './event-mails';
import { NotificationConfigSchema, type NotificationConfig } from './config';
import { MailSender } from './delivery';
import type { Deps } from './deps';
import { STREAM, STREAM_SUBJECTS } from './events';
import { bellCalendarGrpcServices } from './bell-calendar-grpc';
import { notificationGrpcServices } from './grpc';
import { collectMailMetrics } from './metrics';
import { NOTIFICATION_PERMISSIONS } from './permissions';
import type { Upstreams } from './upstreams';

/** What the hooks of one running instance share: the sender the handlers wake up. */
interface Parts {
  deps: Deps;
  sender: MailSender;
  box: SecretBox;
}

function parts(context: ServiceContext<NotificationConfig, Upstreams>): Parts {
  const box = new SecretBox(context.config.NOTIFICATION_SECRET_KEY);
  const sender = new MailSender({ db: context.db, config: context.config, box, logger: context.logger });
  const deps: Deps = {
    db: context.db,
    outbox: context.outbox,
    upstreams: context.upstreams,
    config: context.config,
    poke: () => sender.poke(),
  };
  return { deps, sender, box };
}

/** The notification service: mail templates, the mail queue and its SMTP delivery; bell
 * notifications and calendar events (with their iCalendar feeds). Identity is its authority
 * and knows the users mails go to; the assignment events ask for mails. The kit runs it (see
 * main.ts). */
export const notificationService: ServiceDefinition<(typeof NotificationConfigSchema)['properties'], Upstreams, Parts> = {
  name: 'notification',
  defaultPort: 50054,
  defaultMetricsPort: 9404,
  config: NotificationConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: NOTIFICATION_PERMISSIONS,
  upstreams: (config, settings) => {
    const identity = identityClient(config.IDENTITY_ADDRESS, {
      security: settings.security,
      timeoutMs: config.NOTIFICATION_UPSTREAM_TIMEOUT_MS,
    });
    return { identity, close: () => identity.close() };
  },
  parts,
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  // Parts start in any order: the streams it consumes are made here too if the assignment and
  // statistics services have not made them yet (with the same settings: all read the common
  // variables).
  beforeStart: async ({ bus, settings }) => {
    for (const stream of [ASSIGNMENT_STREAM, STATISTICS_STREAM]) {
      await ensureStream(bus, {
        ...stream,
        maxAgeMs: settings.eventsMaxAgeMs,
        duplicateWindowMs: settings.eventsDuplicateWindowMs,
        replicas: settings.eventsStreamReplicas,
      });
    }
  },
  consumers: ({ parts, logger }) => [assignmentMailsConsumer(parts.deps, logger), statisticsMailsConsumer(parts.deps, logger)],
  workers: ({ parts, config }) => (config.NOTIFICATION_SENDER_ENABLED ? [parts.sender] : []),
  collectMetrics: ({ db }) => collectMailMetrics(db),
  grpc: ({ parts, logger }) => [
    ...notificationGrpcServices(parts.deps, parts.box, logger),
    ...bellCalendarGrpcServices(parts.deps, logger),
  ],
};
