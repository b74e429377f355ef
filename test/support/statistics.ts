import { statisticsService } from '@assistants/statistics';
import { statisticsClient, type StatisticsClient } from '@assistants/statistics/client';
import { TEST_SECURITY } from './identity';
import {
  serviceEnvironment,
  startServiceProcess,
  startTestService,
  type ServiceProcess,
  type TestService,
  type TestServiceOptions,
} from './service';

export interface StatisticsOptions extends TestServiceOptions {
  identityAddress: string;
  catalogAddress: string;
}

function environment(options: StatisticsOptions, port: number): Record<string, string> {
  return serviceEnvironment('statistics', options, port, {
    IDENTITY_ADDRESS: options.identityAddress,
    CATALOG_ADDRESS: options.catalogAddress,
  });
}

/** The statistics service, started in-process on a free port (or `port`), on a real NATS
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

/** The statistics service as a process of its own, so that a test can kill it (SIGKILL)
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
