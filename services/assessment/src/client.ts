import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { AttemptServiceClient } from '@assistants/proto/gen/assessment/v1/attempts';
import { PrintServiceClient } from '@assistants/proto/gen/assessment/v1/print';
import { QtiServiceClient } from '@assistants/proto/gen/assessment/v1/qti';
import { PackageServiceClient } from '@assistants/proto/gen/assessment/v1/packages';
import { TestServiceClient } from '@assistants/proto/gen/assessment/v1/tests';

/** Promise clients of the assessment gRPC services at `address`. Calls carry the service
 * token and the current context's acting user: the service decides from that user's grants,
 * asking identity. */
export function assessmentClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'assessment' };
  const clients = {
    tests: grpcClient(TestServiceClient, address, settings),
    attempts: grpcClient(AttemptServiceClient, address, settings),
    print: grpcClient(PrintServiceClient, address, settings),
    qti: grpcClient(QtiServiceClient, address, settings),
    // T4, LMS publication.
    packages: grpcClient(PackageServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type AssessmentClient = ReturnType<typeof assessmentClient>;
