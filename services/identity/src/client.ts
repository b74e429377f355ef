import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { AudienceServiceClient } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceClient } from '@assistants/proto/gen/identity/v1/auth';
import { ListServiceClient } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceClient } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceClient } from '@assistants/proto/gen/identity/v1/roles';
import { UserServiceClient } from '@assistants/proto/gen/identity/v1/users';

/** Promise clients of every identity gRPC service at `address`. Calls carry the service
 * token and the current context's acting user (see the kit's context.ts): identity decides
 * from that user's grants. */
export function identityClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'identity' };
  const clients = {
    organisations: grpcClient(OrganisationServiceClient, address, settings),
    users: grpcClient(UserServiceClient, address, settings),
    audiences: grpcClient(AudienceServiceClient, address, settings),
    roles: grpcClient(RoleServiceClient, address, settings),
    lists: grpcClient(ListServiceClient, address, settings),
    auth: grpcClient(AuthServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type IdentityClient = ReturnType<typeof identityClient>;
