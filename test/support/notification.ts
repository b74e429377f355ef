import { notificationService } from '@assistants/notification';
import { notificationClient, type NotificationClient } from '@assistants/notification/client';
import { TEST_SECURITY } from './identity';
import {
  serviceEnvironment,
  startServiceProcess,
  startTestService,
  type ServiceProcess,
  type TestService,
  type TestServiceOptions,
} from './service';

/** The key tests encrypt generated passwords with. */
export const TEST_NOTIFICATION_SECRET_KEY = 'test-notification-secret-key-0123456789abcdef';

export interface NotificationOptions extends TestServiceOptions {
  identityAddress: string;
  /** The SMTP server mails go to (see startSmtpSink); default 127.0.0.1:1 (nothing listens:
   * mails stay queued and are retried). */
  smtpPort?: number;
}

function environment(options: NotificationOptions, port: number): Record<string, string> {
  return serviceEnvironment('notification', options, port, {
    IDENTITY_ADDRESS: options.identityAddress,
    NOTIFICATION_SECRET_KEY: TEST_NOTIFICATION_SECRET_KEY,
    NOTIFICATION_PLATFORM_URL: 'https://lms.example.test',
    NOTIFICATION_SMTP_HOST: '127.0.0.1',
    NOTIFICATION_SMTP_PORT: String(options.smtpPort ?? 1),
    // Tests wait for mails: poll often, retry soon.
    NOTIFICATION_SENDER_POLL_MS: '50',
    NOTIFICATION_RETRY_INITIAL_MS: '100',
    NOTIFICATION_RETRY_MAX_MS: '1000',
    NOTIFICATION_MAILS_PER_SECOND: '1000',
  });
}

/** The notification service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "notification": it may share identity's
 * database), with identity at `identityAddress`, sending to the SMTP server on `smtpPort`. */
export function startNotification(options: NotificationOptions): Promise<TestNotification> {
  return startTestService({
    definition: notificationService,
    env: (port) => environment(options, port),
    client: (address) => notificationClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export type TestNotification = TestService<NotificationClient>;
export type NotificationProcess = ServiceProcess<NotificationClient>;

/** The notification service as a process of its own, so that a test can kill it (SIGKILL)
 * mid-fan-out and start it again on the same port. */
export function startNotificationProcess(options: NotificationOptions): Promise<NotificationProcess> {
  return startServiceProcess({
    name: 'notification',
    env: (port) => environment(options, port),
    client: (address) => notificationClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export { notificationClient, type NotificationClient };
