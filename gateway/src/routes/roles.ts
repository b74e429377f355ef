import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityClient } from '@assistants/identity/client';
import { IdParams, NoContent, Paged, responses } from '../schemas/common';
import { NameQuery, NewRole, Role, RolePatch } from '../schemas/identity';

const tags = ['roles'];

export const roleRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.get(
    '/v1/roles',
    {
      schema: { tags, summary: 'Roles, by name', querystring: NameQuery, response: responses({ 200: Paged(Type.Ref(Role)) }) },
      config: { needs: 'roles:grant' },
    },
    async (request) => {
      const { query = '', limit = 50, offset = 0 } = request.query;
      const { roles, total } = await identity.roles.listRoles({ query, page: { limit, offset, after: '' } });
      return { items: roles, total, limit, offset };
    },
  );

  app.post(
    '/v1/roles',
    {
      schema: { tags, summary: 'Create a role', body: NewRole, response: responses({ 201: Type.Ref(Role) }) },
      config: { needs: 'roles:write (on the root organisation)' },
    },
    async (request, reply) => {
      const { name, description = '', permissions } = request.body;
      const { role } = await identity.roles.createRole({ name, description, permissions });
      return reply.code(201).header('location', `/v1/roles/${role!.id}`).send(role!);
    },
  );

  app.patch(
    '/v1/roles/:id',
    {
      schema: {
        tags,
        summary: 'Change a role (not a built-in one)',
        params: IdParams,
        body: RolePatch,
        response: responses({ 200: Type.Ref(Role) }),
      },
      config: { needs: 'roles:write (on the root organisation)' },
    },
    async (request) => {
      const { name, description, permissions } = request.body;
      const { role } = await identity.roles.updateRole({
        id: request.params.id,
        name,
        description,
        permissions: permissions ?? [],
        replacePermissions: permissions !== undefined,
      });
      return role;
    },
  );

  app.delete(
    '/v1/roles/:id',
    {
      schema: { tags, summary: 'Delete a role and its grants', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: 'roles:write (on the root organisation)' },
    },
    async (request, reply) => {
      await identity.roles.deleteRole({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
