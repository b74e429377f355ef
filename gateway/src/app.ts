import { randomUUID } from 'node:crypto';
import type { AssignmentClient } from '@assistants/assignment/client';
import type { CatalogClient } from '@assistants/catalog/client';
import type { IdentityClient } from '@assistants/identity/client';
import type { ImportClient } from '@assistants/import/client';
import type { NotificationClient } from '@assistants/notification/client';
import type { StatisticsClient } from '@assistants/statistics/client';
import type { AssessmentClient } from '@assistants/assessment/client';
import { runWithCorrelationId, type Logger } from '@assistants/kit';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAdmission } from './admission';
import { normaliseIds, registerAuthentication } from './auth';
import type { GatewayConfig } from './config';
import { registerErrorHandler } from './errors';
import { registerSecurityHeaders } from './security-headers';
import { instrumentHttp } from './metrics';
import { serializersBuiltOnce } from './serializers';
import { audienceRoutes } from './routes/audiences';
import { BELL_CALENDAR_SCHEMAS, bellCalendarRoutes } from './routes/bell-calendar';
import { assignmentRoutes } from './routes/assignments';
import { catalogStructureRoutes } from './routes/catalog-structure';
import { courseRoutes } from './routes/courses';
import { courseSessionRoutes } from './routes/course-sessions';
import { curriculumRoutes } from './routes/curricula';
import { IMPORT_SCHEMAS, importRoutes } from './routes/imports';
import { listRoutes } from './routes/lists';
import { MAIL_SCHEMAS, mailRoutes } from './routes/mails';
import { OPS_SCHEMAS, opsRoutes, type OpsClients } from './routes/ops';
import { organisationRoutes } from './routes/organisations';
import { roleRoutes } from './routes/roles';
import { runRoutes } from './routes/runs';
import { selectionRoutes } from './routes/selections';
import { sessionRoutes } from './routes/sessions';
import { EXPORT_SCHEMAS, exportRoutes } from './routes/exports';
import { STATISTICS_SCHEMAS, statisticsRoutes } from './routes/statistics';
import { userRoutes } from './routes/users';
import { ASSESSMENT_SCHEMAS, assessmentRoutes } from './routes/assessment';
import { assessmentPrintRoutes } from './routes/assessment-print';
import { assessmentQtiRoutes } from './routes/assessment-qti';
import { ASSESSMENT_PUBLISH_SCHEMAS, assessmentPublishRoutes } from './routes/assessment-publish';
import { ASSIGNMENT_SCHEMAS } from './schemas/assignment';
import { CATALOG_SCHEMAS } from './schemas/catalog';
import { COURSE_SESSION_SCHEMAS } from './schemas/course-sessions';
import { ErrorBody } from './schemas/common';
import { SHARED_SCHEMAS } from './schemas/identity';
import { RUN_SCHEMAS } from './schemas/runs';
import type { RunEngine } from './runs/engine';
import type { MergeEngine } from './merges/engine';
import { mergeRoutes } from './routes/merges';
import { MERGE_SCHEMAS } from './schemas/merges';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  identity: IdentityClient;
  catalog: CatalogClient;
  assignment: AssignmentClient;
  notification: NotificationClient;
  statistics: StatisticsClient;
  imports: ImportClient;
  assessment: AssessmentClient;
  ops: OpsClients;
  runs: RunEngine;
  merges: MergeEngine;
}

const CORRELATION_ID = /^[\w.:-]{1,100}$/;

/** The admin HTTP API as a fastify instance, not listening yet (main.ts listens). */
export async function buildApp({
  config,
  logger,
  identity,
  catalog,
  assignment,
  notification,
  statistics,
  imports,
  assessment,
  ops,
  runs,
  merges,
}: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    // A caller's correlation id is kept when it is a plain token, so their logs and ours meet.
    genReqId: (req) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
    // Unknown fields are refused, not dropped: a misspelt field must not look like success.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaController: serializersBuiltOnce(),
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-correlation-id', request.id);
    runWithCorrelationId(request.id, done);
  });
  instrumentHttp(app);
  registerAdmission(app, {
    concurrency: config.GATEWAY_CONCURRENT_REQUESTS,
    maxQueued: config.GATEWAY_QUEUED_REQUESTS,
    maxQueuedPerCaller: config.GATEWAY_QUEUED_REQUESTS_PER_CALLER,
    maxWaitMs: config.GATEWAY_QUEUE_WAIT_MS,
  });
  registerErrorHandler(app);
  registerSecurityHeaders(app);
  const auth = registerAuthentication(app, {
    identity,
    failuresPerMinute: config.GATEWAY_AUTH_FAILURES_PER_MINUTE,
    cacheSeconds: config.GATEWAY_AUTH_CACHE_SECONDS,
  });
  await app.register(rateLimit, {
    max: config.GATEWAY_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (request) => request.principal?.userId ?? request.ip,
  });

  // Ids in any case are the same id: lower-cased before validation and before any service
  // compares them.
  app.addHook('preValidation', async (request) => {
    normaliseIds(request.params);
    normaliseIds(request.query);
    normaliseIds(request.body);
  });
  // The permission a route needs, in its documentation (identity decides, see auth.ts).
  app.addHook('onRoute', (route) => {
    const needs = route.config?.needs;
    if (!needs || !route.schema) return;
    const schema = route.schema as { description?: string };
    schema.description = `${schema.description ? `${schema.description}\n\n` : ''}Needs the permission ${needs}, and acts only within the organisations where you hold it.`;
  });

  await app.register(swagger, {
    // Shared schemas keep their names (User, Error...) in the OpenAPI document.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Assistants API',
        version: '1.0.0',
        description:
          'Bulk administration of the LMS. Every route needs credentials: a bearer token from POST /v1/sessions, or HTTP Basic. ' +
          'What you see and change is limited to the organisation sub-trees of your role grants.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // swagger-ui's own policy upgrades every request to HTTPS: the docs page must load over
    // plain HTTP too, as the API's own policy allows (security-headers.ts).
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  app.addSchema(ErrorBody);
  for (const schema of [
    ...SHARED_SCHEMAS,
    ...CATALOG_SCHEMAS,
    ...COURSE_SESSION_SCHEMAS,
    ...ASSIGNMENT_SCHEMAS,
    ...OPS_SCHEMAS,
    ...RUN_SCHEMAS,
    ...MERGE_SCHEMAS,
    ...MAIL_SCHEMAS,
    ...BELL_CALENDAR_SCHEMAS,
    ...STATISTICS_SCHEMAS,
    ...EXPORT_SCHEMAS,
    ...IMPORT_SCHEMAS,
    ...ASSESSMENT_SCHEMAS,
    ...ASSESSMENT_PUBLISH_SCHEMAS,
  ])
    app.addSchema(schema);
  await app.register(sessionRoutes, { identity, forget: auth.forget });
  await app.register(organisationRoutes, { identity });
  await app.register(userRoutes, { identity });
  await app.register(selectionRoutes, { identity });
  await app.register(audienceRoutes, { identity });
  await app.register(roleRoutes, { identity });
  await app.register(listRoutes, { identity });
  await app.register(courseRoutes, { catalog });
  await app.register(courseSessionRoutes, { catalog });
  await app.register(curriculumRoutes, { catalog });
  await app.register(catalogStructureRoutes, { catalog });
  await app.register(assignmentRoutes, { assignment });
  await app.register(mailRoutes, { notification });
  await app.register(bellCalendarRoutes, { notification });
  await app.register(statisticsRoutes, { statistics });
  await app.register(exportRoutes, { statistics });
  await app.register(opsRoutes, { ops });
  await app.register(runRoutes, { runs });
  await app.register(mergeRoutes, { merges });
  await app.register(assessmentRoutes, { assessment });
  await app.register(assessmentPrintRoutes, { assessment });
  await app.register(assessmentQtiRoutes, { assessment });
  await app.register(assessmentPublishRoutes, { assessment });
  await app.register(importRoutes, { imports, maxFileBytes: config.GATEWAY_IMPORT_MAX_FILE_BYTES });
  return app;
}
