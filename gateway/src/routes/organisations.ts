import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityClient } from '@assistants/identity/client';
import { IdParams, NoContent, Paged, responses } from '../schemas/common';
import { NewOrganisation, Organisation, OrganisationPatch, OrganisationQuery } from '../schemas/identity';

const tags = ['organisations'];

export const organisationRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.get(
    '/v1/organisations',
    {
      schema: {
        tags,
        summary: 'Browse the tree: children of parentId, the top of your scope, or a search (query)',
        querystring: OrganisationQuery,
        response: responses({ 200: Paged(Type.Ref(Organisation)) }),
      },
      config: { needs: 'organisations:read' },
    },
    async (request) => {
      const { parentId = '', query = '', includeDisabled = false, limit = 50, offset = 0 } = request.query;
      const { organisations, total } = await identity.organisations.listOrganisations({
        parentId,
        query,
        includeDisabled,
        page: { limit, offset, after: '' },
      });
      return { items: organisations, total, limit, offset };
    },
  );

  app.post(
    '/v1/organisations',
    {
      schema: { tags, summary: 'Create an organisation', body: NewOrganisation, response: responses({ 201: Type.Ref(Organisation) }) },
      config: { needs: 'organisations:write' },
    },
    async (request, reply) => {
      const { organisation } = await identity.organisations.createOrganisation({ fields: request.body });
      return reply.code(201).header('location', `/v1/organisations/${organisation!.id}`).send(organisation!);
    },
  );

  app.get(
    '/v1/organisations/:id',
    {
      schema: { tags, summary: 'One organisation', params: IdParams, response: responses({ 200: Type.Ref(Organisation) }) },
      config: { needs: 'organisations:read' },
    },
    async (request) => (await identity.organisations.getOrganisation({ id: request.params.id, extId: '' })).organisation!,
  );

  app.patch(
    '/v1/organisations/:id',
    {
      schema: {
        tags,
        summary: 'Change an organisation; a new parentId moves it with its sub-tree',
        params: IdParams,
        body: OrganisationPatch,
        response: responses({ 200: Type.Ref(Organisation) }),
      },
      config: { needs: 'organisations:write' },
    },
    async (request) => (await identity.organisations.updateOrganisation({ id: request.params.id, fields: request.body })).organisation!,
  );

  app.delete(
    '/v1/organisations/:id',
    {
      schema: {
        tags,
        summary: 'Delete an organisation without users or children',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
      config: { needs: 'organisations:write' },
    },
    async (request, reply) => {
      await identity.organisations.deleteOrganisation({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
