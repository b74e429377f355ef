import { join } from 'node:path';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { ensureStream, type ServiceContext, type ServiceDefinition } from '@assistants/kit';
import { ASSIGNMENT_STREAM, assignmentMailsConsumer, STATISTICS_STREAM, statisticsMailsConsumer } from './event-mails';
import { NotificationConfigSchema, type NotificationConfig } from './config';
import { MailSender } from './delivery';
import type { Deps } from './deps';
import { STREAM, STREAM_SUBJECTS } from './events';
import { bellCalendarGrpcServices } from './bell-calendar-grpc';
import { notificationGrpcServices } from './grpc';
import { NOTIFICATION_PERMISSIONS } from './permissions';
import { SecretBox } from './secret';
import type { Upstreams } from './upstreams';

type Context = ServiceContext<NotificationConfig, Upstreams>;

/** One sender and one set of dependencies per running instance (tests run several in one
 * process), made by whichever hook asks first. */
const instances = new WeakMap<object, { deps: Deps; sender: MailSender; box: SecretBox }>();
function instance(context: Context) {
  let found = instances.get(context.db);
  if (!found) {
    const box = new SecretBox(context.config.NOTIFICATION_SECRET_KEY);
    const sender = new MailSender({ db: context.db, config: context.config, box, logger: context.logger });
    const deps: Deps = {
      db: context.db,
      outbox: context.outbox,
      upstreams: context.upstreams,
      config: context.config,
      poke: () => sender.poke(),
    };
    found = { deps, sender, box };
    instances.set(context.db, found);
  }
  return found;
}

/** The notification service: mail templates, the mail queue and its SMTP delivery; bell
 * notifications and calendar events (with their iCalendar feeds). Identity is its authority
 * and knows the users mails go to; the assignment events ask for mails. The kit runs it (see
 * main.ts). */
export const notificationService: ServiceDefinition<(typeof NotificationConfigSchema)['properties'], Upstreams> = {
  name: 'notification',
  defaultPort: 50054,
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
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  // Parts start in any order: the streams it consumes are made here too if the assignment and
  // statistics services have not made them yet (with the same settings: all read the common
  // variables).
  beforeStart: async ({ bus, settings }) => {
    for (const stream of [ASSIGNMENT_STREAM, STATISTICS_STREAM]) {
      await ensureStream(bus, { ...stream, maxAgeMs: settings.eventsMaxAgeMs, duplicateWindowMs: settings.eventsDuplicateWindowMs });
    }
  },
  consumers: (context) => [
    assignmentMailsConsumer(instance(context).deps, context.logger),
    statisticsMailsConsumer(instance(context).deps, context.logger),
  ],
  workers: (context) => (context.config.NOTIFICATION_SENDER_ENABLED ? [instance(context).sender] : []),
  grpc: (context) => [
    ...notificationGrpcServices(instance(context).deps, instance(context).box, context.logger),
    ...bellCalendarGrpcServices(instance(context).deps, context.logger),
  ],
};
