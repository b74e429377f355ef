import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { AccessPropertyServiceClient } from '@assistants/proto/gen/assignment/v1/access';
import { AssignmentServiceClient } from '@assistants/proto/gen/assignment/v1/assignments';
import { CertificateServiceClient } from '@assistants/proto/gen/assignment/v1/certificates';
import { TutorServiceClient } from '@assistants/proto/gen/assignment/v1/tutors';

/** Promise clients of every assignment gRPC service at `address`. Calls carry the service
 * token and the current context's acting user (see the kit's context.ts): the service
 * decides from that user's grants, asking identity. */
export function assignmentClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'assignment' };
  const clients = {
    assignments: grpcClient(AssignmentServiceClient, address, settings),
    certificates: grpcClient(CertificateServiceClient, address, settings),
    tutors: grpcClient(TutorServiceClient, address, settings),
    access: grpcClient(AccessPropertyServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type AssignmentClient = ReturnType<typeof assignmentClient>;
