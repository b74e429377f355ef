import { IdentityConfigSchema } from '@assistants/identity/src/config';
import { startIdentity as startIdentityService } from '@assistants/identity/src/start';
import { identityClients, type IdentityClients } from '@assistants/gateway/src/clients';
import { createLogger, loadConfig, type Bus, type Database } from '@assistants/kit';
import { startNats, type TestNats } from './nats';
import { createTestDatabase, type TestDatabase } from './postgres';

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
  const started = await startIdentityService(config, logger);
  let stopped: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${started.port}`,
    db: started.db,
    bus: started.bus,
    flushEvents: () => started.outbox.flush(),
    // Idempotent: a test may stop identity early to see how others cope.
    stop: () => (stopped ??= started.stop()),
  };
}

/** Identity with what it runs on: its own nats-server and database, and clients. restart()
 * starts a new identity on the same server and database (the clients change with it). */
export interface IdentityFixture {
  nats: TestNats;
  pg: TestDatabase;
  identity: TestIdentity;
  api: IdentityClients;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIdentityFixture(name: string, admin?: { login: string; password: string }): Promise<IdentityFixture> {
  const [nats, pg] = await Promise.all([startNats(), createTestDatabase(name)]);
  const start = async () => {
    const identity = await startIdentity({ natsUrl: nats.url, databaseUrl: pg.url, admin });
    return { identity, api: identityClients(identity.address) };
  };
  const fixture: IdentityFixture = {
    nats,
    pg,
    ...(await start().catch(async (err) => {
      await Promise.all([nats.stop(), pg.drop()]);
      throw err;
    })),
    async restart() {
      fixture.api.close();
      await fixture.identity.stop();
      Object.assign(fixture, await start());
    },
    async stop() {
      fixture.api.close();
      await fixture.identity.stop();
      await Promise.all([nats.stop(), pg.drop()]);
    },
  };
  return fixture;
}

export { identityClients, type IdentityClients };
