import { join } from 'node:path';
import { identityAuthority, identityClient, type IdentityClient } from '@assistants/identity/client';
import type { ServiceDefinition } from '@assistants/kit';
import { audienceRemoval } from './audience-removal';
import { CatalogConfigSchema } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { catalogGrpcServices } from './grpc';
import { CATALOG_PERMISSIONS } from './permissions';

/** The catalog service: course and curriculum folders, categories, courses and lessons,
 * curricula, competencies; course and curriculum search and selections; the catalogue
 * actions of the course and curriculum assistants. Identity is its authority and knows the
 * audiences. The kit runs it (see main.ts). */
export const catalogService: ServiceDefinition<(typeof CatalogConfigSchema)['properties'], IdentityClient> = {
  name: 'catalog',
  defaultPort: 50052,
  defaultMetricsPort: 9402,
  config: CatalogConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: CATALOG_PERMISSIONS,
  upstreams: (config, settings) =>
    identityClient(config.IDENTITY_ADDRESS, { security: settings.security, timeoutMs: config.CATALOG_IDENTITY_TIMEOUT_MS }),
  authority: ({ upstreams }) => identityAuthority(upstreams),
  grpc: (context) => catalogGrpcServices(context, context.upstreams),
  consumers: () => [audienceRemoval],
};
