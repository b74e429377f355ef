import type * as grpc from '@grpc/grpc-js';
import { implement, invalidArgument, type Database, type Emit, type Logger, type Outbox, type Queryable } from '@assistants/kit';
import type { Scope } from '@assistants/proto/gen/identity/v1/common';
import { AudienceServiceService, type AudienceServiceServer } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceService, type AuthServiceServer } from '@assistants/proto/gen/identity/v1/auth';
import { ListServiceService, type ListServiceServer } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceService, type OrganisationServiceServer } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceService, type RoleServiceServer } from '@assistants/proto/gen/identity/v1/roles';
import { UserServiceService, type UserServiceServer } from '@assistants/proto/gen/identity/v1/users';
import { createAudience, deleteAudience, listAudiences, updateAudience } from './audiences';
import { authenticate, createSession, deleteSession } from './auth';
import {
  addListMembers,
  createList,
  createListFolder,
  deleteList,
  getList,
  listListFolders,
  removeListMembers,
  searchLists,
  updateList,
} from './lists';
import {
  createOrganisation,
  deleteOrganisation,
  findOrganisation,
  listOrganisations,
  toOrganisation,
  updateOrganisation,
} from './organisations';
import { hashPassword } from './passwords';
import { createRole, deleteRole, grantRoles, listRoleGrants, listRoles, revokeRole, updateRole } from './roles';
import { ResolvedScope } from './scope';
import { resolveUserSelection, searchUsers } from './user-selection';
import { changeAudiences, createUser, deleteUser, findUser, setPassword, toUser, updateUser } from './users';
import { checkPassword } from './validation';

export interface HandlerDeps {
  db: Database;
  outbox: Outbox;
  logger: Logger;
  sessionTtlMinutes: number;
}

/** The identity service's gRPC services: each handler checks its request, runs the domain
 * function in a transaction (with its events) or on the pool, and shapes the response. */
export function identityGrpcServices(deps: HandlerDeps): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const { db, outbox, logger } = deps;

  /** A change seen through the request's scope, committed with its events. */
  const write = <T>(scope: Scope | undefined, fn: (tx: Queryable, emit: Emit, scope: ResolvedScope) => Promise<T>) =>
    outbox.transaction(async (tx, emit) => fn(tx, emit, await ResolvedScope.resolve(tx, scope)));
  const read = async <T>(scope: Scope | undefined, fn: (scope: ResolvedScope) => Promise<T>) => fn(await ResolvedScope.resolve(db, scope));

  const organisations = implement<OrganisationServiceServer>(logger, {
    createOrganisation: async (req) => ({
      organisation: await write(req.scope, (tx, emit, scope) => createOrganisation(tx, emit, scope, req.fields ?? {})),
    }),
    getOrganisation: async (req) => ({
      organisation: toOrganisation(
        await read(req.scope, (scope) =>
          findOrganisation(db, scope, req.id ? { id: req.id } : { extId: req.extId }, req.id ? 'id' : 'extId'),
        ),
      ),
    }),
    updateOrganisation: async (req) => ({
      organisation: await write(req.scope, (tx, emit, scope) => updateOrganisation(tx, emit, scope, req.id, req.fields ?? {})),
    }),
    deleteOrganisation: async (req) => {
      await write(req.scope, (tx, emit, scope) => deleteOrganisation(tx, emit, scope, req.id));
      return {};
    },
    listOrganisations: async (req) => {
      const { items, total } = await read(req.scope, (scope) => listOrganisations(db, scope, req));
      return { organisations: items, total };
    },
  });

  const users = implement<UserServiceServer>(logger, {
    createUser: async (req) => {
      // Hashed before the transaction opens: it takes a while and needs no lock.
      const passwordHash = req.password === undefined ? null : await hashPassword(checkPassword('password', req.password));
      return {
        user: await write(req.scope, (tx, emit, scope) =>
          createUser(tx, emit, scope, { fields: req.fields ?? {}, passwordHash, audienceIds: req.audienceIds }),
        ),
      };
    },
    getUser: async (req) => ({ user: toUser(await read(req.scope, (scope) => findUser(db, scope, req))) }),
    updateUser: async (req) => ({
      user: await write(req.scope, (tx, emit, scope) => updateUser(tx, emit, scope, req.id, req.fields ?? {}, req.allowExternallyManaged)),
    }),
    deleteUser: async (req) => {
      await write(req.scope, (tx, emit, scope) => deleteUser(tx, emit, scope, req.id, req.allowExternallyManaged));
      return {};
    },
    setUserPassword: async (req) => {
      const passwordHash = await hashPassword(checkPassword('password', req.password));
      await write(req.scope, (tx, emit, scope) =>
        setPassword(tx, emit, scope, req.id, {
          passwordHash,
          mustChangePassword: req.mustChangePassword,
          allowExternallyManaged: req.allowExternallyManaged,
        }),
      );
      return {};
    },
    addUserAudiences: async (req) => ({
      changed: await write(req.scope, (tx, emit, scope) => changeAudiences(tx, emit, scope, 'add', req.userIds, req.audienceIds)),
    }),
    removeUserAudiences: async (req) => ({
      changed: await write(req.scope, (tx, emit, scope) => changeAudiences(tx, emit, scope, 'remove', req.userIds, req.audienceIds)),
    }),
    searchUsers: async (req) => {
      const { items, total, nextCursor } = await read(req.scope, (scope) => searchUsers(db, scope, req.filter, req.page));
      return { users: items, total, nextCursor };
    },
    resolveUserSelection: async (req) => {
      const { items, total, nextCursor } = await read(req.scope, (scope) => resolveUserSelection(db, scope, req.selection, req.page));
      return { users: items, total, nextCursor };
    },
  });

  const audiences = implement<AudienceServiceServer>(logger, {
    createAudience: async (req) => ({
      audience: await outbox.transaction((tx, emit) => createAudience(tx, emit, req.name, req.description)),
    }),
    updateAudience: async (req) => ({
      audience: await outbox.transaction((tx, emit) => updateAudience(tx, emit, req.id, req)),
    }),
    deleteAudience: async (req) => {
      await outbox.transaction((tx, emit) => deleteAudience(tx, emit, req.id));
      return {};
    },
    listAudiences: async (req) => {
      const { items, total } = await listAudiences(db, req.query, req.ids, req.page);
      return { audiences: items, total };
    },
  });

  const roles = implement<RoleServiceServer>(logger, {
    createRole: async (req) => ({
      role: await outbox.transaction((tx, emit) => createRole(tx, emit, req.name, req.description, req.permissions)),
    }),
    updateRole: async (req) => ({
      role: await outbox.transaction((tx, emit) =>
        updateRole(tx, emit, req.id, {
          name: req.name,
          description: req.description,
          permissions: req.replacePermissions ? req.permissions : undefined,
        }),
      ),
    }),
    deleteRole: async (req) => {
      await outbox.transaction((tx, emit) => deleteRole(tx, emit, req.id));
      return {};
    },
    listRoles: async (req) => {
      const { items, total } = await listRoles(db, req.query, req.page);
      return { roles: items, total };
    },
    grantRoles: async (req) => ({
      granted: await write(req.scope, (tx, emit, scope) => grantRoles(tx, emit, scope, req.userIds, req.roleIds, req.organisationId)),
    }),
    revokeRole: async (req) => {
      await write(req.scope, (tx, emit, scope) => revokeRole(tx, emit, scope, req.userId, req.roleId, req.organisationId));
      return {};
    },
    listRoleGrants: async (req) => ({ grants: await read(req.scope, (scope) => listRoleGrants(db, scope, req.userId)) }),
  });

  const lists = implement<ListServiceServer>(logger, {
    createListFolder: async (req) => ({
      folder: await outbox.transaction((tx, emit) => createListFolder(tx, emit, req.name, req.parentId)),
    }),
    listListFolders: async () => ({ folders: await listListFolders(db) }),
    createList: async (req) => ({ list: await write(req.scope, (tx, emit, scope) => createList(tx, emit, scope, req)) }),
    getList: async (req) => ({ list: await getList(db, req.id) }),
    updateList: async (req) => ({ list: await write(req.scope, (tx, emit, scope) => updateList(tx, emit, scope, req.id, req)) }),
    deleteList: async (req) => {
      await outbox.transaction((tx, emit) => deleteList(tx, emit, req.id));
      return {};
    },
    searchLists: async (req) => {
      const { items, total } = await searchLists(db, req.filter, req.page);
      return { lists: items, total };
    },
    addListMembers: async (req) => ({
      added: await write(req.scope, (tx, emit, scope) => addListMembers(tx, emit, scope, req.listId, req.userIds)),
    }),
    removeListMembers: async (req) => ({
      removed: await write(req.scope, (tx, emit, scope) => removeListMembers(tx, emit, scope, req.listId, req.userIds)),
    }),
  });

  const auth = implement<AuthServiceServer>(logger, {
    createSession: async (req) => {
      if (!req.login || !req.password) throw invalidArgument(req.login ? 'password' : 'login', 'login and password are required');
      return createSession(db, req.login, req.password, deps.sessionTtlMinutes);
    },
    authenticate: async (req) => ({ principal: await authenticate(db, req) }),
    deleteSession: async (req) => {
      await deleteSession(db, req.token);
      return {};
    },
  });

  return [
    [OrganisationServiceService, organisations],
    [UserServiceService, users],
    [AudienceServiceService, audiences],
    [RoleServiceService, roles],
    [ListServiceService, lists],
    [AuthServiceService, auth],
  ];
}
