import { catalogService } from '@assistants/catalog';
import { catalogClient, type CatalogClient } from '@assistants/catalog/client';
import type { GrpcSecurity } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import type { TestDatabase } from './postgres';
import { startTestService, type TestService } from './service';

/** The catalog service, started in-process on a free port (or `port`), on a real NATS server
 * and PostgreSQL database (its own schema "catalog": it may share identity's database), with
 * identity at `identityAddress` as its authority. */
export function startCatalog(options: {
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
  return startTestService({
    definition: catalogService,
    env: (port) => ({
      ASSISTANTS_SERVICE_TOKEN: security.serviceToken,
      CATALOG_GRPC_PORT: String(port),
      CATALOG_DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      IDENTITY_ADDRESS: options.identityAddress,
      ...options.env,
    }),
    client: (address) => catalogClient(address, { security }),
    port: options.port,
  });
}

export type TestCatalog = TestService<CatalogClient>;

export { catalogClient, type CatalogClient };
