import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityClient } from '@assistants/identity/client';
import { IdParams, NoContent, Paged, responses } from '../schemas/common';
import { Audience, AudiencePatch, NameQuery, NewAudience } from '../schemas/identity';

const tags = ['audiences'];

export const audienceRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.get(
    '/v1/audiences',
    {
      schema: { tags, summary: 'Audiences, by name', querystring: NameQuery, response: responses({ 200: Paged(Type.Ref(Audience)) }) },
      config: { needs: 'users:read' },
    },
    async (request) => {
      const { query = '', limit = 50, offset = 0 } = request.query;
      const { audiences, total } = await identity.audiences.listAudiences({ query, ids: [], page: { limit, offset, after: '' } });
      return { items: audiences, total, limit, offset };
    },
  );

  app.post(
    '/v1/audiences',
    {
      schema: { tags, summary: 'Create an audience', body: NewAudience, response: responses({ 201: Type.Ref(Audience) }) },
      config: { needs: 'audiences:write (on the root organisation)' },
    },
    async (request, reply) => {
      const { audience } = await identity.audiences.createAudience({
        name: request.body.name,
        description: request.body.description ?? '',
      });
      return reply.code(201).header('location', `/v1/audiences/${audience!.id}`).send(audience!);
    },
  );

  app.patch(
    '/v1/audiences/:id',
    {
      schema: {
        tags,
        summary: 'Rename or describe an audience',
        params: IdParams,
        body: AudiencePatch,
        response: responses({ 200: Type.Ref(Audience) }),
      },
      config: { needs: 'audiences:write (on the root organisation)' },
    },
    async (request) => (await identity.audiences.updateAudience({ id: request.params.id, ...request.body })).audience!,
  );

  app.delete(
    '/v1/audiences/:id',
    {
      schema: { tags, summary: 'Delete an audience (users lose it)', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: 'audiences:write (on the root organisation)' },
    },
    async (request, reply) => {
      await identity.audiences.deleteAudience({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
