import { grpcClient } from '@assistants/kit';
import { AudienceServiceClient } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceClient } from '@assistants/proto/gen/identity/v1/auth';
import { ListServiceClient } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceClient } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceClient } from '@assistants/proto/gen/identity/v1/roles';
import { UserServiceClient } from '@assistants/proto/gen/identity/v1/users';

/** Promise clients of every identity gRPC service at `address`. */
export function identityClients(address: string) {
  const clients = {
    organisations: grpcClient(OrganisationServiceClient, address),
    users: grpcClient(UserServiceClient, address),
    audiences: grpcClient(AudienceServiceClient, address),
    roles: grpcClient(RoleServiceClient, address),
    lists: grpcClient(ListServiceClient, address),
    auth: grpcClient(AuthServiceClient, address),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type IdentityClients = ReturnType<typeof identityClients>;
