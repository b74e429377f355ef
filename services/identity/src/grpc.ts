import type * as grpc from '@grpc/grpc-js';
import { applyBatch, implement, invalidArgument, type Emit, type Queryable, type RpcContext, type ServiceContext } from '@assistants/kit';
import type { BatchHeader, ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { AudienceServiceService, type AudienceServiceServer } from '@assistants/proto/gen/identity/v1/audiences';
import { AuthServiceService, type AuthServiceServer } from '@assistants/proto/gen/identity/v1/auth';
import { IdentityImportServiceService, type IdentityImportServiceServer } from '@assistants/proto/gen/identity/v1/imports';
import { ListServiceService, type ListServiceServer } from '@assistants/proto/gen/identity/v1/lists';
import { OrganisationServiceService, type OrganisationServiceServer } from '@assistants/proto/gen/identity/v1/organisations';
import { RoleServiceService, type RoleServiceServer } from '@assistants/proto/gen/identity/v1/roles';
import { UserActionServiceService, type UserActionServiceServer } from '@assistants/proto/gen/identity/v1/user_actions';
import { UserServiceService, type UserServiceServer } from '@assistants/proto/gen/identity/v1/users';
import { createAudience, deleteAudience, listAudiences, updateAudience } from './audiences';
import { authenticate, checkOwnPassword, createSession, deleteSession, getPrincipal, setOwnPassword, type LoginLimits } from './auth';
import { Caller } from './caller';
import type { IdentityConfig } from './config';
import {
  addListMembers,
  createList,
  createListFolder,
  deleteList,
  getList,
  listListFolders,
  listListMembers,
  removeListMembers,
  searchLists,
  updateList,
} from './lists';
import { createOrganisation, deleteOrganisation, getOrganisation, listOrganisations, updateOrganisation } from './organisations';
import { importOrganisations, importUserManagers, importUsers } from './imports';
import { importListMembers } from './list-imports';
import { findUnchangedUsers } from './user-fingerprints';
import { hashPassword } from './passwords';
import { listPermissions, registerPermissions } from './permissions';
import { createRole, deleteRole, grantRoles, listRoleGrants, listRoles, revokeRole, updateRole } from './roles';
import { listOfKey, saveUsersAsList } from './save-users-as-list';
import { addUsersAudiences, addUsersRoles, modifyUsers, setUsersManager } from './user-actions';
import { listSelectedUsers, resolveUserSelection, searchUsers } from './user-selection';
import { changeAudiences, createUser, deleteUser, getUser, setPassword, updateUser } from './users';
import { getUsersForAction } from './users-for-action';
import { getOrganisationsForAction } from './organisations-for-action';
import { deleteMergedUser, mergeUserMemberships } from './merge-users';
import { checkPassword } from './validation';

/** The identity service's gRPC services. Each handler loads the acting user of the call
 * (Caller), runs the command in a transaction with its events (write) or on the pool
 * (read), and shapes the answer; the commands decide what the caller may do. */
export function identityGrpcServices({ db, outbox, logger, config }: ServiceContext<IdentityConfig>) {
  const limits: LoginLimits = {
    maxFailures: config.IDENTITY_LOGIN_MAX_FAILURES,
    windowMinutes: config.IDENTITY_LOGIN_FAILURE_WINDOW_MINUTES,
  };

  /** A change by the call's acting user, committed with its events. */
  const write = <T>(call: RpcContext, fn: (tx: Queryable, emit: Emit, caller: Caller) => Promise<T>) =>
    outbox.transaction(async (tx, emit) => fn(tx, emit, await Caller.load(tx, call.actorId)));
  /** A read by the call's acting user. */
  const read = async <T>(call: RpcContext, fn: (caller: Caller) => Promise<T>) => fn(await Caller.load(db, call.actorId));

  /** A batch of a run (user assistant), applied once per idempotency key (kit applyBatch):
   * the request without its header is what the key stands for. */
  const batch = <R extends { batch?: BatchHeader }>(
    call: RpcContext,
    { batch: header, ...request }: R,
    fn: (tx: Queryable, emit: Emit, caller: Caller, request: Omit<R, 'batch'>, dryRun: boolean) => Promise<ItemResult[]>,
  ) => applyBatch(outbox, header, request, async (tx, emit, dryRun) => fn(tx, emit, await Caller.load(tx, call.actorId), request, dryRun));

  const organisations = implement<OrganisationServiceServer>(logger, {
    createOrganisation: async (req, call) => ({
      organisation: await write(call, (tx, emit, caller) => createOrganisation(tx, emit, caller, req.fields ?? {})),
    }),
    getOrganisation: async (req, call) => ({
      organisation: await read(call, (caller) => getOrganisation(db, caller, req.id ? { id: req.id } : { extId: req.extId })),
    }),
    updateOrganisation: async (req, call) => ({
      organisation: await write(call, (tx, emit, caller) => updateOrganisation(tx, emit, caller, req.id, req.fields ?? {})),
    }),
    deleteOrganisation: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteOrganisation(tx, emit, caller, req.id));
      return {};
    },
    listOrganisations: async (req, call) => {
      const { items, total } = await read(call, (caller) => listOrganisations(db, caller, req));
      return { organisations: items, total };
    },
    getOrganisationsForAction: async (req, call) => ({
      organisations: await read(call, (caller) => getOrganisationsForAction(db, caller, req.organisationIds, req.permission)),
    }),
  });

  const users = implement<UserServiceServer>(logger, {
    createUser: async (req, call) => {
      // Hashed before the transaction opens: it takes a while and needs no lock.
      const passwordHash = req.password === undefined ? null : await hashPassword(checkPassword('password', req.password));
      return {
        user: await write(call, (tx, emit, caller) =>
          createUser(tx, emit, caller, { fields: req.fields ?? {}, passwordHash, audienceIds: req.audienceIds }),
        ),
      };
    },
    getUser: async (req, call) => ({ user: await read(call, (caller) => getUser(db, caller, req)) }),
    updateUser: async (req, call) => ({
      user: await write(call, (tx, emit, caller) => updateUser(tx, emit, caller, req.id, req.fields ?? {})),
    }),
    deleteUser: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteUser(tx, emit, caller, req.id));
      return {};
    },
    setUserPassword: async (req, call) => {
      const passwordHash = await hashPassword(checkPassword('password', req.password));
      await write(call, (tx, emit, caller) =>
        setPassword(tx, emit, caller, req.id, { passwordHash, mustChangePassword: req.mustChangePassword }),
      );
      return {};
    },
    addUserAudiences: async (req, call) => ({
      changed: await write(call, (tx, emit, caller) => changeAudiences(tx, emit, caller, 'add', req.userIds, req.audienceIds)),
    }),
    removeUserAudiences: async (req, call) => ({
      changed: await write(call, (tx, emit, caller) => changeAudiences(tx, emit, caller, 'remove', req.userIds, req.audienceIds)),
    }),
    searchUsers: async (req, call) => {
      const { items, total, nextCursor } = await read(call, (caller) => searchUsers(db, caller, req.filter, req.page));
      return { users: items, total, nextCursor };
    },
    resolveUserSelection: async (req, call) => {
      const { items, total, nextCursor } = await read(call, (caller) => resolveUserSelection(db, caller, req.selection, req.page));
      return { users: items, total, nextCursor };
    },
    listSelectedUsers: async (req, call) => read(call, (caller) => listSelectedUsers(db, caller, req)),
    getUsersForAction: async (req, call) => ({
      users: await read(call, (caller) => getUsersForAction(db, caller, req.userIds, req.permission, req.checkCovered ?? false)),
    }),
    getUsersForActionByLogin: async (req, call) => ({
      users: await read(call, (caller) => getUsersForAction(db, caller, [], req.permission, false, req.logins)),
    }),
  });

  const audiences = implement<AudienceServiceServer>(logger, {
    createAudience: async (req, call) => ({
      audience: await write(call, (tx, emit, caller) => createAudience(tx, emit, caller, req.name, req.description)),
    }),
    updateAudience: async (req, call) => ({
      audience: await write(call, (tx, emit, caller) => updateAudience(tx, emit, caller, req.id, req)),
    }),
    deleteAudience: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteAudience(tx, emit, caller, req.id));
      return {};
    },
    listAudiences: async (req, call) => {
      const { items, total } = await read(call, () => listAudiences(db, req.query, req.ids, req.page));
      return { audiences: items, total };
    },
  });

  const roles = implement<RoleServiceServer>(logger, {
    createRole: async (req, call) => ({ role: await write(call, (tx, emit, caller) => createRole(tx, emit, caller, req)) }),
    updateRole: async (req, call) => ({
      role: await write(call, (tx, emit, caller) =>
        updateRole(tx, emit, caller, req.id, {
          name: req.name,
          description: req.description,
          permissions: req.replacePermissions ? req.permissions : undefined,
        }),
      ),
    }),
    deleteRole: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteRole(tx, emit, caller, req.id));
      return {};
    },
    listRoles: async (req, call) => {
      const { items, total } = await read(call, (caller) => listRoles(db, caller, req.query, req.page));
      return { roles: items, total };
    },
    grantRoles: async (req, call) => ({ granted: await write(call, (tx, emit, caller) => grantRoles(tx, emit, caller, req)) }),
    revokeRole: async (req, call) => {
      await write(call, (tx, emit, caller) => revokeRole(tx, emit, caller, req));
      return {};
    },
    listRoleGrants: async (req, call) => ({ grants: await read(call, (caller) => listRoleGrants(db, caller, req.userId)) }),
    // Service-level: no acting user needed, the service token is.
    listPermissions: async () => ({ permissions: await listPermissions(db) }),
    registerPermissions: async (req) => {
      await db.transaction((tx) =>
        registerPermissions(
          tx,
          req.service,
          req.permissions.map((p) => ({ name: p.name, description: p.description, rootOnly: p.rootOnly })),
        ),
      );
      return {};
    },
  });

  const lists = implement<ListServiceServer>(logger, {
    createListFolder: async (req, call) => ({
      folder: await write(call, (tx, emit, caller) => createListFolder(tx, emit, caller, req.name, req.parentId)),
    }),
    listListFolders: async (_req, call) => ({ folders: await read(call, (caller) => listListFolders(db, caller)) }),
    createList: async (req, call) => ({ list: await write(call, (tx, emit, caller) => createList(tx, emit, caller, req)) }),
    getList: async (req, call) => ({ list: await read(call, (caller) => getList(db, caller, req.id)) }),
    updateList: async (req, call) => ({ list: await write(call, (tx, emit, caller) => updateList(tx, emit, caller, req.id, req)) }),
    deleteList: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteList(tx, emit, caller, req.id));
      return {};
    },
    searchLists: async (req, call) => {
      const { items, total } = await read(call, (caller) => searchLists(db, caller, req.filter, req.page));
      return { lists: items, total };
    },
    addListMembers: async (req, call) => ({
      added: await write(call, (tx, emit, caller) => addListMembers(tx, emit, caller, req.listId, req.userIds)),
    }),
    removeListMembers: async (req, call) => ({
      removed: await write(call, (tx, emit, caller) => removeListMembers(tx, emit, caller, req.listId, req.userIds)),
    }),
    listListMembers: async (req, call) => read(call, (caller) => listListMembers(db, caller, req.listId, req.page)),
  });

  const userActions = implement<UserActionServiceServer>(logger, {
    modifyUsers: async (req, call) => ({ result: await batch(call, req, modifyUsers) }),
    addUsersAudiences: async (req, call) => ({ result: await batch(call, req, addUsersAudiences) }),
    addUsersRoles: async (req, call) => ({ result: await batch(call, req, addUsersRoles) }),
    setUsersManager: async (req, call) => ({
      result: await batch(call, req, (tx, emit, caller, r) => setUsersManager(tx, emit, caller, r, 'manager_id')),
    }),
    setUsersSecondaryManager: async (req, call) => ({
      result: await batch(call, req, (tx, emit, caller, r) => setUsersManager(tx, emit, caller, r, 'secondary_manager_id')),
    }),
    mergeUserMemberships: async (req, call) => ({ result: await batch(call, req, mergeUserMemberships) }),
    deleteMergedUser: async (req, call) => ({ result: await batch(call, req, deleteMergedUser) }),
    saveUsersAsList: async (req, call) => {
      let listId = '';
      const result = await batch(call, req, async (tx, emit, caller, r, dryRun) => {
        const saved = await saveUsersAsList(tx, emit, caller, r, dryRun);
        listId = saved.listId;
        return saved.results;
      });
      // A replayed batch did not run: its list is the one of its key.
      if (result.replayed) listId = await listOfKey(db, req.listKey);
      return { result, listId };
    },
  });

  const imports = implement<IdentityImportServiceServer>(logger, {
    importOrganisations: async (req, call) => ({ result: await batch(call, req, importOrganisations) }),
    importUsers: async (req, call) => ({ result: await batch(call, req, importUsers) }),
    importUserManagers: async (req, call) => ({ result: await batch(call, req, importUserManagers) }),
    importListMembers: async (req, call) => ({ result: await batch(call, req, importListMembers) }),
    findUnchangedUsers: async (req, call) => ({ itemIds: await read(call, (caller) => findUnchangedUsers(db, caller, req)) }),
  });

  const auth = implement<AuthServiceServer>(logger, {
    createSession: async (req) => {
      if (!req.login || !req.password) throw invalidArgument(req.login ? 'password' : 'login', 'login and password are required');
      return createSession(db, req.login, req.password, config.IDENTITY_SESSION_TTL_MINUTES, limits);
    },
    authenticate: async (req) => ({ principal: await authenticate(db, req, limits) }),
    deleteSession: async (req) => {
      await deleteSession(db, req.token);
      return {};
    },
    changeOwnPassword: async (req, call) => {
      const caller = await Caller.load(db, call.actorId, { passwordChange: true });
      await checkOwnPassword(db, caller.userId, req.currentPassword, limits);
      const passwordHash = await hashPassword(checkPassword('newPassword', req.newPassword));
      await outbox.transaction((tx, emit) => setOwnPassword(tx, emit, caller.userId, passwordHash));
      return {};
    },
    getPrincipal: async (req) => ({ principal: await getPrincipal(db, req.userId) }),
  });

  return [
    [OrganisationServiceService, organisations],
    [UserServiceService, users],
    [AudienceServiceService, audiences],
    [RoleServiceService, roles],
    [ListServiceService, lists],
    [AuthServiceService, auth],
    [UserActionServiceService, userActions],
    [IdentityImportServiceService, imports],
  ] as [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
}
