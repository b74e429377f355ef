import { createIdentityService } from '@assistants/identity';
import { IdentityConfigSchema } from '@assistants/identity/src/config';
import { connectBus, createLogger, loadConfig, openDatabase, type Bus, type Database } from '@assistants/kit';

export interface TestIdentity {
  address: string;
  db: Database;
  bus: Bus;
  /** Publishes every event stored so far. */
  flushEvents(): Promise<void>;
  stop(): Promise<void>;
}

/** The identity service, started in-process on a free port, on the given real NATS server
 * and PostgreSQL database. */
export async function startIdentity(options: {
  natsUrl: string;
  databaseUrl: string;
  admin?: { login: string; password: string };
}): Promise<TestIdentity> {
  const logger = createLogger('identity', process.env.TEST_LOG_LEVEL ?? 'silent');
  const config = loadConfig(IdentityConfigSchema, {
    IDENTITY_GRPC_PORT: '0',
    IDENTITY_DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl,
    IDENTITY_BOOTSTRAP_ADMIN_LOGIN: options.admin?.login,
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: options.admin?.password,
  });
  const db = await openDatabase({ url: options.databaseUrl, schema: 'identity', dataDir: '', logger });
  const bus = await connectBus(options.natsUrl, 'identity', logger);
  const service = createIdentityService({ config, logger, db, bus });
  const { port } = await service.start();
  let stopped: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    db,
    bus,
    flushEvents: () => service.outbox.flush(),
    // Idempotent: a test may stop identity early to see how others cope.
    stop: () =>
      (stopped ??= (async () => {
        await service.stop();
        await bus.close();
        await db.close();
      })()),
  };
}

export { identityClients } from '@assistants/gateway/src/clients';
