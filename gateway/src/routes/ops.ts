import { notFound, type PromiseClient } from '@assistants/kit';
import type { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Paged, PageQuery, responses } from '../schemas/common';

/** The OpsService of each service, by name. */
export type OpsClients = Record<string, PromiseClient<OpsServiceClient>>;

const tags = ['operations'];

const needs = 'events:manage (on the root organisation)';

const ServiceParams = Type.Object(
  { service: Type.String({ pattern: '^[a-z]+$', description: 'e.g. identity' }) },
  { additionalProperties: false },
);

const EventStatus = Type.Object(
  {
    service: Type.String(),
    pending: Type.Integer({ description: 'events committed, not published yet' }),
    oldestPendingSeconds: Type.Number(),
    unpublishable: Type.Integer({ description: 'events moved aside: they can never be published as they are' }),
    consumers: Type.Array(Type.Object({ durable: Type.String(), deadLetters: Type.Integer() })),
    error: Type.Optional(Type.String({ description: 'set when the service did not answer' })),
  },
  { $id: 'EventStatus' },
);

const UnpublishableEvent = Type.Object(
  {
    seq: Type.String(),
    subject: Type.String(),
    eventId: Type.String(),
    reason: Type.String(),
    createdAt: Type.String(),
    movedAt: Type.String(),
    envelopeJson: Type.String(),
  },
  { $id: 'UnpublishableEvent' },
);

const DeadLetter = Type.Object(
  {
    id: Type.String(),
    consumer: Type.String(),
    subject: Type.String(),
    eventId: Type.String(),
    error: Type.String({ description: 'the last error' }),
    deliveries: Type.Integer(),
    failedAt: Type.String(),
    envelopeJson: Type.String(),
  },
  { $id: 'DeadLetter' },
);

const Ids = Type.Object(
  { ids: Type.Array(Type.String({ pattern: '^\\d+$' }), { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const OPS_SCHEMAS = [EventStatus, UnpublishableEvent, DeadLetter];

/** The event plumbing of every service, for operators: each service decides (events:manage
 * on the root) and answers for its own outbox and consumers. */
export const opsRoutes: FastifyPluginAsyncTypebox<{ ops: OpsClients }> = async (app, { ops }) => {
  const client = (service: string) => {
    const found = ops[service];
    if (!found) throw notFound(`no service ${service}; known: ${Object.keys(ops).join(', ')}`, 'params.service');
    return found;
  };

  app.get(
    '/v1/ops/events',
    {
      schema: {
        tags,
        summary: 'Every service: events waiting to be published, events moved aside, dead letters per consumer',
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(EventStatus)) }) }),
      },
      config: { needs },
    },
    async () => ({
      items: await Promise.all(
        Object.entries(ops).map(async ([service, c]) => {
          try {
            return await c.getEventStatus({});
          } catch (err) {
            // One service down must not hide the others; a refusal is everyone's answer.
            if ((err as { code?: string }).code === 'PERMISSION_DENIED' || (err as { code?: string }).code === 'UNAUTHENTICATED') throw err;
            return { service, pending: 0, oldestPendingSeconds: 0, unpublishable: 0, consumers: [], error: (err as Error).message };
          }
        }),
      ),
    }),
  );

  app.get(
    '/v1/ops/services/:service/unpublishable',
    {
      schema: {
        tags,
        summary: 'The events a service could not publish, with the reason',
        params: ServiceParams,
        querystring: PageQuery,
        response: responses({ 200: Paged(Type.Ref(UnpublishableEvent)) }),
      },
      config: { needs },
    },
    async (request) => {
      const { limit = 50, offset = 0 } = request.query;
      const { events, total } = await client(request.params.service).listUnpublishableEvents({ limit, offset });
      return { items: events, total, limit, offset };
    },
  );

  app.post(
    '/v1/ops/services/:service/unpublishable/retry',
    {
      schema: {
        tags,
        summary: 'Put events back in the outbox, once their cause is fixed',
        params: ServiceParams,
        body: Ids,
        response: responses({ 200: Type.Object({ retried: Type.Integer() }) }),
      },
      config: { needs },
    },
    async (request) => client(request.params.service).retryUnpublishableEvents({ seqs: request.body.ids }),
  );

  app.get(
    '/v1/ops/services/:service/dead-letters',
    {
      schema: {
        tags,
        summary: 'The events a service’s consumers gave up on, with the last error',
        params: ServiceParams,
        querystring: Type.Object(
          { ...PageQuery.properties, consumer: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: responses({ 200: Paged(Type.Ref(DeadLetter)) }),
      },
      config: { needs },
    },
    async (request) => {
      const { limit = 50, offset = 0, consumer = '' } = request.query;
      const { deadLetters, total } = await client(request.params.service).listDeadLetters({ consumer, limit, offset });
      return { items: deadLetters, total, limit, offset };
    },
  );

  app.post(
    '/v1/ops/services/:service/dead-letters/replay',
    {
      schema: {
        tags,
        summary: 'Run the consumer again on dead letters; those that succeed are removed',
        params: ServiceParams,
        body: Ids,
        response: responses({
          200: Type.Object({
            replayed: Type.Integer(),
            failed: Type.Array(Type.Object({ id: Type.String(), error: Type.String() })),
            notFound: Type.Array(Type.String()),
          }),
        }),
      },
      config: { needs },
    },
    async (request) => client(request.params.service).replayDeadLetters({ ids: request.body.ids }),
  );

  app.post(
    '/v1/ops/services/:service/dead-letters/discard',
    {
      schema: {
        tags,
        summary: 'Drop dead letters for good',
        params: ServiceParams,
        body: Ids,
        response: responses({ 200: Type.Object({ discarded: Type.Integer() }) }),
      },
      config: { needs },
    },
    async (request) => client(request.params.service).discardDeadLetters({ ids: request.body.ids }),
  );
};
