import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { ExportServiceClient } from '@assistants/proto/gen/statistics/v1/exports';
import { StatisticsImportServiceClient } from '@assistants/proto/gen/statistics/v1/imports';
import { ProgressServiceClient } from '@assistants/proto/gen/statistics/v1/progress';

/** Promise clients of the statistics gRPC services at `address`. Calls carry the service
 * token and the current context's acting user: the service decides from that user's grants,
 * asking identity. */
export function statisticsClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'statistics' };
  const clients = {
    progress: grpcClient(ProgressServiceClient, address, settings),
    exports: grpcClient(ExportServiceClient, address, settings),
    // The import jobs' chunks (I5, I6, I9).
    imports: grpcClient(StatisticsImportServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type StatisticsClient = ReturnType<typeof statisticsClient>;
