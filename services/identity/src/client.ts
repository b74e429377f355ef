import { grpcClient, withContext, type Authority, type GrpcSecurity } from '@assistants/kit';
import { AudienceServiceClient } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceClient } from '@assistants/proto/gen/identity/v1/auth';
import { IdentityImportServiceClient } from '@assistants/proto/gen/identity/v1/imports';
import { ListServiceClient } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceClient } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceClient } from '@assistants/proto/gen/identity/v1/roles';
import { UserActionServiceClient } from '@assistants/proto/gen/identity/v1/user_actions';
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
    // The user assistant's batches (U1-U5, U18).
    userActions: grpcClient(UserActionServiceClient, address, settings),
    // The import jobs' chunks (I1, I2).
    imports: grpcClient(IdentityImportServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type IdentityClient = ReturnType<typeof identityClient>;

/** Identity as the authority of another service (its ServiceDefinition.authority): the
 * grants of a call's acting user, asked on every check (a revoked grant stops at once), and
 * the declaration of its permissions at start. */
export function identityAuthority(client: IdentityClient): Authority {
  return {
    principal: async (actorId) => {
      const { principal } = await withContext({ actorId: undefined }, () => client.auth.getPrincipal({ userId: actorId }));
      return { grants: principal!.grants };
    },
    registerPermissions: async (service, permissions) => {
      await client.roles.registerPermissions({ service, permissions: permissions.map((p) => ({ ...p, service })) });
    },
  };
}
