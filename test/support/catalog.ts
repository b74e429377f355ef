import { catalogService } from '@assistants/catalog';
import { catalogClient, type CatalogClient } from '@assistants/catalog/client';
import { createLogger, startService, type Bus, type Database, type GrpcSecurity, type Outbox } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import type { TestDatabase } from './postgres';

export interface TestCatalog {
  /** host:port of its gRPC server (the same after restart()). */
  address: string;
  /** Clients acting as nobody (service-level calls: GetCourses, GetCurricula); see
   * actingAs for calls on behalf of a user. */
  client: CatalogClient;
  db: Database;
  bus: Bus;
  outbox: Outbox;
  /** Publishes every event stored so far. */
  flushEvents(): Promise<void>;
  /** Stops it and starts it again on the same port, database and NATS server. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The catalog service, started in-process on a free port (or `port`), on a real NATS server
 * and PostgreSQL database (its own schema "catalog": it may share identity's database), with
 * identity at `identityAddress` as its authority. */
export async function startCatalog(options: {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  identityAddress: string;
  port?: number;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}): Promise<TestCatalog> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error('startCatalog needs nats (or natsUrl) and pg (or databaseUrl)');
  const security = options.security ?? TEST_SECURITY;
  const start = (port: number) =>
    startService(catalogService, {
      logger: createLogger('catalog', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: {
        ASSISTANTS_SERVICE_TOKEN: security.serviceToken,
        CATALOG_GRPC_PORT: String(port),
        CATALOG_DATABASE_URL: databaseUrl,
        NATS_URL: natsUrl,
        IDENTITY_ADDRESS: options.identityAddress,
        ...options.env,
      },
    });
  let running = await start(options.port ?? 0);
  let stopped: Promise<void> | undefined;
  const catalog: TestCatalog = {
    address: running.address,
    client: catalogClient(running.address, { security }),
    db: running.db,
    bus: running.bus,
    outbox: running.outbox,
    flushEvents: () => running.outbox.flush(),
    async restart() {
      await running.stop();
      running = await start(running.port);
      Object.assign(catalog, { db: running.db, bus: running.bus, outbox: running.outbox });
      stopped = undefined;
    },
    stop: () =>
      (stopped ??= (async () => {
        catalog.client.close();
        await running.stop();
      })()),
  };
  return catalog;
}

export { catalogClient, type CatalogClient };
