import { randomBytes } from 'node:crypto';
import { identityService } from '@assistants/identity';
import { identityClient, type IdentityClient } from '@assistants/identity/client';
import { createLogger, startService, withContext, type Bus, type Database, type GrpcSecurity, type Outbox } from '@assistants/kit';
import { startNats, type TestNats } from './nats';
import { createTestDatabase, type TestDatabase } from './postgres';

/** The service token of every part started by the tests of one process. */
export const TEST_SECURITY: GrpcSecurity = { serviceToken: randomBytes(32).toString('base64url') };

export const ADMIN = { login: 'admin', password: 'correct horse battery staple' };

export interface TestIdentity {
  address: string;
  db: Database;
  bus: Bus;
  outbox: Outbox;
  /** Publishes every event stored so far. */
  flushEvents(): Promise<void>;
  stop(): Promise<void>;
}

/** The identity service, started in-process on a free port, on the given real NATS server
 * and PostgreSQL database, with the bootstrap administrator ADMIN. */
export async function startIdentity(options: {
  natsUrl: string;
  databaseUrl: string;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}): Promise<TestIdentity> {
  const logger = createLogger('identity', process.env.TEST_LOG_LEVEL ?? 'silent');
  const started = await startService(identityService, {
    logger,
    env: {
      ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
      IDENTITY_GRPC_PORT: '0',
      // No metrics server unless the test asks (several services share a test process).
      IDENTITY_METRICS_PORT: '0',
      IDENTITY_DATABASE_URL: options.databaseUrl,
      NATS_URL: options.natsUrl,
      IDENTITY_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login,
      IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      ...options.env,
    },
  });
  let stopped: Promise<void> | undefined;
  return {
    address: started.address,
    db: started.db,
    bus: started.bus,
    outbox: started.outbox,
    flushEvents: () => started.outbox.flush(),
    // Idempotent: a test may stop identity early to see how others cope.
    stop: () => (stopped ??= started.stop()),
  };
}

/** The same client, every call made on behalf of `actorId` (as the gateway does for the
 * user behind a request). Works for the client of any service: each of its gRPC services is
 * wrapped, its address and close() are kept. */
export function actingAs<C extends object>(client: C, actorId: string): C {
  const wrap = <S extends object>(service: S): S =>
    new Proxy(service, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' && name !== 'close'
          ? (...args: unknown[]) => withContext({ actorId }, () => value.apply(target, args))
          : value;
      },
    });
  return Object.fromEntries(
    Object.entries(client).map(([name, value]) => [name, typeof value === 'object' && value !== null ? wrap(value) : value]),
  ) as C;
}

/** Identity with what it runs on: its own nats-server and database, and clients. restart()
 * starts a new identity on the same server and database (the clients change with it). */
export interface IdentityFixture {
  nats: TestNats;
  pg: TestDatabase;
  identity: TestIdentity;
  /** Clients acting as the bootstrap administrator (Administrator on the root). */
  api: IdentityClient;
  /** The bootstrap administrator's id. */
  adminId: string;
  /** Clients acting as another user. */
  as(userId: string): IdentityClient;
  /** Clients acting as nobody (service-level calls). */
  client: IdentityClient;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIdentityFixture(name: string, env: Record<string, string> = {}): Promise<IdentityFixture> {
  const [nats, pg] = await Promise.all([startNats(), createTestDatabase(name)]);
  let client: IdentityClient;
  const start = async () => {
    const identity = await startIdentity({ natsUrl: nats.url, databaseUrl: pg.url, env });
    client = identityClient(identity.address, { security: TEST_SECURITY });
    const { rows } = await identity.db.query<{ id: string }>('SELECT id FROM users WHERE login = $1', [ADMIN.login]);
    return { identity, client, adminId: rows[0].id, api: actingAs(client, rows[0].id) };
  };
  const fixture: IdentityFixture = {
    nats,
    pg,
    ...(await start().catch(async (err) => {
      await Promise.all([nats.stop(), pg.drop()]);
      throw err;
    })),
    as: (userId) => actingAs(client, userId),
    async restart() {
      client.close();
      await fixture.identity.stop();
      Object.assign(fixture, await start());
    },
    async stop() {
      client.close();
      await fixture.identity.stop();
      await Promise.all([nats.stop(), pg.drop()]);
    },
  };
  return fixture;
}

export { identityClient, type IdentityClient };
