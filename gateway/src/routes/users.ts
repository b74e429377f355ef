import type { IdentityClient } from '@assistants/identity/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Id, IdParams, KeysetPaged, NoContent, responses } from '../schemas/common';
import { AudienceIds, NewPassword, NewRoleGrant, NewUser, RoleGrant, User, UserPatch, UserSearch, UserSummary } from '../schemas/identity';
import { toProtoFilter } from '../selection';

const tags = ['users'];

export const userRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.post(
    '/v1/users/search',
    {
      schema: {
        tags,
        summary: 'SEL-1: one page of the users a filter matches, and the exact total',
        body: UserSearch,
        response: responses({ 200: KeysetPaged(Type.Ref(UserSummary)) }),
      },
      config: { needs: 'users:read' },
    },
    async (request) => {
      const { filter, limit = 50, offset = 0, after = '' } = request.body;
      const { users, total, nextCursor } = await identity.users.searchUsers({
        filter: toProtoFilter(filter),
        page: { limit, offset, after },
      });
      return { items: users, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/users',
    {
      schema: { tags, summary: 'Create a user', body: NewUser, response: responses({ 201: Type.Ref(User) }) },
      config: { needs: 'users:write' },
    },
    async (request, reply) => {
      const { password, audienceIds = [], ...fields } = request.body;
      const { user } = await identity.users.createUser({ fields, password, audienceIds });
      return reply.code(201).header('location', `/v1/users/${user!.id}`).send(user!);
    },
  );

  app.get(
    '/v1/users/:id',
    {
      schema: { tags, summary: 'One user', params: IdParams, response: responses({ 200: Type.Ref(User) }) },
      config: { needs: 'users:read' },
    },
    async (request) => (await identity.users.getUser({ id: request.params.id, login: '', extId: '' })).user!,
  );

  app.patch(
    '/v1/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a user: absent fields are left as they are, "" clears a field',
        params: IdParams,
        body: UserPatch,
        response: responses({ 200: Type.Ref(User) }),
      },
      config: { needs: 'users:write' },
    },
    async (request) =>
      (
        await identity.users.updateUser({
          id: request.params.id,
          fields: request.body,
        })
      ).user,
  );

  app.delete(
    '/v1/users/:id',
    {
      schema: { tags, summary: 'Delete a user', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: 'users:write' },
    },
    async (request, reply) => {
      await identity.users.deleteUser({
        id: request.params.id,
      });
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/users/:id/password',
    {
      schema: {
        tags,
        summary: "Set a user's password (their open sessions end)",
        params: IdParams,
        body: NewPassword,
        response: responses({ 204: NoContent }),
      },
      config: { needs: 'users:write' },
    },
    async (request, reply) => {
      const { password, mustChangePassword = false } = request.body;
      await identity.users.setUserPassword({
        id: request.params.id,
        password,
        mustChangePassword,
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/users/:id/audiences',
    {
      schema: { tags, summary: 'Add audiences to a user', params: IdParams, body: AudienceIds, response: responses({ 204: NoContent }) },
      config: { needs: 'users:write' },
    },
    async (request, reply) => {
      await identity.users.addUserAudiences({ userIds: [request.params.id], audienceIds: request.body.audienceIds });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/v1/users/:id/audiences/:audienceId',
    {
      schema: {
        tags,
        summary: 'Take an audience away from a user',
        params: Type.Object({ id: Id, audienceId: Id }),
        response: responses({ 204: NoContent }),
      },
      config: { needs: 'users:write' },
    },
    async (request, reply) => {
      await identity.users.removeUserAudiences({
        userIds: [request.params.id],
        audienceIds: [request.params.audienceId],
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/users/:id/roles',
    {
      schema: {
        tags,
        summary: "A user's role grants",
        params: IdParams,
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(RoleGrant)) }) }),
      },
      config: { needs: 'users:read' },
    },
    async (request) => ({ items: (await identity.roles.listRoleGrants({ userId: request.params.id })).grants }),
  );

  app.post(
    '/v1/users/:id/roles',
    {
      schema: {
        tags,
        summary: 'Give roles to a user on the sub-tree of one organisation',
        description: 'You can only give a role whose every permission you hold yourself on that organisation.',
        params: IdParams,
        body: NewRoleGrant,
        response: responses({ 200: Type.Object({ granted: Type.Integer() }) }),
      },
      config: { needs: 'roles:grant' },
    },
    async (request) => identity.roles.grantRoles({ userIds: [request.params.id], ...request.body }),
  );

  app.delete(
    '/v1/users/:id/roles/:roleId',
    {
      schema: {
        tags,
        summary: 'Take a role back',
        params: Type.Object({ id: Id, roleId: Id }),
        querystring: Type.Object({ organisationId: Id }, { additionalProperties: false }),
        response: responses({ 204: NoContent }),
      },
      config: { needs: 'roles:grant' },
    },
    async (request, reply) => {
      await identity.roles.revokeRole({
        userId: request.params.id,
        roleId: request.params.roleId,
        organisationId: request.query.organisationId,
      });
      return reply.code(204).send(null);
    },
  );
};
