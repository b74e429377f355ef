import { statisticsService } from '@assistants/statistics';
import { statisticsClient, type StatisticsClient } from '@assistants/statistics/client';
import type { GrpcSecurity } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import type { TestDatabase } from './postgres';
import { startServiceProcess, startTestService, type ServiceProcess, type TestService } from './service';

export interface StatisticsOptions {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  identityAddress: string;
  catalogAddress: string;
  port?: number;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}

function environment(options: StatisticsOptions, port: number): Record<string, string> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error('the statistics service needs nats (or natsUrl) and pg (or databaseUrl)');
  return {
    ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
    STATISTICS_GRPC_PORT: String(port),
    STATISTICS_DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    IDENTITY_ADDRESS: options.identityAddress,
    CATALOG_ADDRESS: options.catalogAddress,
    ...options.env,
  };
}

/** The assignment service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "statistics": it may share identity's
 * database), with identity and catalog at the given addresses. */
export function startStatistics(options: StatisticsOptions): Promise<TestStatistics> {
  return startTestService({
    definition: statisticsService,
    env: (port) => environment(options, port),
    client: (address) => statisticsClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export type TestStatistics = TestService<StatisticsClient>;
export type StatisticsProcess = ServiceProcess<StatisticsClient>;

/** The assignment service as a process of its own, so that a test can kill it (SIGKILL)
 * mid-run and start it again on the same port. */
export function startStatisticsProcess(options: StatisticsOptions): Promise<StatisticsProcess> {
  return startServiceProcess({
    name: 'statistics',
    env: (port) => environment(options, port),
    client: (address) => statisticsClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export { statisticsClient, type StatisticsClient };
