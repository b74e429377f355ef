import { grpcClient, notFound, withContext, type Authority, type GrpcSecurity, type Refusal } from '@assistants/kit';
import { AudienceServiceClient } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceClient } from '@assistants/proto/gen/identity/v1/auth';
import { IdentityImportServiceClient } from '@assistants/proto/gen/identity/v1/imports';
import { ListServiceClient } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceClient } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceClient } from '@assistants/proto/gen/identity/v1/roles';
import { UserActionServiceClient } from '@assistants/proto/gen/identity/v1/user_actions';
import { UserServiceClient, type UserForAction } from '@assistants/proto/gen/identity/v1/users';

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

/** identity's GetUsersForAction takes at most this many ids per call. */
const USERS_PER_CALL = 5_000;

/** The users of a batch, by id: whether each exists and whether the acting user holds
 * `permission` on its organisation (PERMISSION_DENIED when it holds it nowhere), with what a
 * mail and the audience rule read; with `checkCovered`, whether the acting user holds every
 * grant of each (a change of the user itself, as the merge). Asked even for no users: the
 * permission is checked all the same (a run's validation). Shared by the services that act
 * on users in batches. */
export async function usersForAction(
  identity: IdentityClient,
  userIds: string[],
  permission: string,
  checkCovered = false,
): Promise<Map<string, UserForAction>> {
  const byId = new Map<string, UserForAction>();
  for (let i = 0; i === 0 || i < userIds.length; i += USERS_PER_CALL) {
    const { users } = await identity.users.getUsersForAction({ userIds: userIds.slice(i, i + USERS_PER_CALL), permission, checkCovered });
    for (const user of users) byId.set(user.id.toLowerCase(), user);
  }
  return byId;
}

/** The users an import's chunk names by login, by lower-case login: as usersForAction (a
 * login that names no user: found false), in calls of at most 5,000 logins. */
export async function usersForActionByLogin(
  identity: IdentityClient,
  logins: string[],
  permission: string,
): Promise<Map<string, UserForAction>> {
  const byLogin = new Map<string, UserForAction>();
  for (let i = 0; i === 0 || i < logins.length; i += USERS_PER_CALL) {
    const { users } = await identity.users.getUsersForActionByLogin({ logins: logins.slice(i, i + USERS_PER_CALL), permission });
    for (const user of users) byLogin.set(user.login.toLowerCase(), user);
  }
  return byLogin;
}

/** Why the acting user may not act on this user, if it may not: NOT_FOUND, OUT_OF_SCOPE. */
export function userRefusal(user: UserForAction | undefined, permission: string): Refusal | null {
  if (!user?.found) return { code: 'NOT_FOUND', message: 'no such user' };
  if (!user.inScope) return { code: 'OUT_OF_SCOPE', message: `you do not hold ${permission} on this user's organisation` };
  return null;
}

/** One user the acting user holds `permission` on; NOT_FOUND otherwise (as if it did not
 * exist: a scoped administrator learns nothing of users outside its scope). */
export async function requireUserInScope(identity: IdentityClient, userId: string, permission: string): Promise<UserForAction> {
  const user = (await usersForAction(identity, [userId], permission)).get(userId);
  if (!user?.found || !user.inScope) throw notFound(`no user with id ${userId}`, 'userId');
  return user;
}

/** The user an event is about, with what a mail to them needs: the Learner message of the
 * assignment and statistics events (the same fields in each). */
export function learnerOf(user: UserForAction) {
  return {
    id: user.id.toLowerCase(),
    login: user.login,
    firstName: user.firstName,
    lastName: user.lastName,
    title: user.title,
    email: user.email,
    language: user.language,
    organisationId: user.organisationId,
    organisationName: user.organisationName,
    managerId: user.managerId,
    managerName: user.managerName,
  };
}
