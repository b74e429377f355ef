import { notificationService } from '@assistants/notification';
import { notificationClient, type NotificationClient } from '@assistants/notification/client';
import { createLogger, startService, type Bus, type Database, type GrpcSecurity, type Outbox, type RunningService } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import { freePort } from './ports';
import { startProcess, type TestProcess } from './processes';
import type { TestDatabase } from './postgres';

/** The key tests encrypt generated passwords with. */
export const TEST_NOTIFICATION_SECRET_KEY = 'test-notification-secret-key-0123456789abcdef';

export interface NotificationOptions {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  identityAddress: string;
  /** The SMTP server mails go to (see startSmtpSink); default 127.0.0.1:1 (nothing listens:
   * mails stay queued and are retried). */
  smtpPort?: number;
  port?: number;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}

export interface TestNotification {
  /** host:port of its gRPC server (the same after restart()). */
  address: string;
  /** Clients acting as nobody; see actingAs. */
  client: NotificationClient;
  db: Database;
  bus: Bus;
  outbox: Outbox;
  /** Stops it and starts it again on the same port, database and NATS server. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function environment(options: NotificationOptions, port: number): Record<string, string> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error('the notification service needs nats (or natsUrl) and pg (or databaseUrl)');
  return {
    ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
    NOTIFICATION_GRPC_PORT: String(port),
    NOTIFICATION_DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
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
    ...options.env,
  };
}

/** The notification service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "notification": it may share identity's
 * database), with identity at `identityAddress`, sending to the SMTP server on `smtpPort`. */
export async function startNotification(options: NotificationOptions): Promise<TestNotification> {
  const security = options.security ?? TEST_SECURITY;
  const start = (port: number) =>
    startService(notificationService, {
      logger: createLogger('notification', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: environment(options, port),
    });
  let running: RunningService<unknown, unknown> = await start(options.port ?? 0);
  let stopped: Promise<void> | undefined;
  const notification: TestNotification = {
    address: running.address,
    client: notificationClient(running.address, { security }),
    db: running.db,
    bus: running.bus,
    outbox: running.outbox,
    async restart() {
      await running.stop();
      running = await start(running.port);
      Object.assign(notification, { db: running.db, bus: running.bus, outbox: running.outbox });
      stopped = undefined;
    },
    stop: () =>
      (stopped ??= (async () => {
        notification.client.close();
        await running.stop();
      })()),
  };
  return notification;
}

export interface NotificationProcess extends TestProcess {
  address: string;
  client: NotificationClient;
}

/** The notification service as a process of its own (services/notification/src/main.ts), so
 * that a test can kill it (SIGKILL) mid-fan-out and start it again on the same port. */
export async function startNotificationProcess(options: NotificationOptions): Promise<NotificationProcess> {
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'notification',
    entry: 'services/notification/src/main.ts',
    env: environment(options, port),
    ready: { grpc: address },
  });
  const client = notificationClient(address, { security: options.security ?? TEST_SECURITY });
  const stopProcess = proc.stop.bind(proc);
  return Object.assign(proc, {
    address,
    client,
    async stop() {
      client.close();
      await stopProcess();
    },
  });
}

export { notificationClient, type NotificationClient };
