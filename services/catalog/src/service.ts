import { join } from 'node:path';
import { identityAuthority, identityClient, type IdentityClient } from '@assistants/identity/client';
import type { ServiceContext, ServiceDefinition } from '@assistants/kit';
import { audienceRemoval } from './audience-removal';
import { CatalogConfigSchema, type CatalogConfig } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { catalogGrpcServices } from './grpc';
import { CATALOG_PERMISSIONS } from './permissions';

/** One identity client per running service (the kit hands the same context to authority()
 * and grpc()). */
const identities = new WeakMap<object, IdentityClient>();
function identityOf({ config, settings }: ServiceContext<CatalogConfig>): IdentityClient {
  let client = identities.get(config);
  if (!client) {
    client = identityClient(config.IDENTITY_ADDRESS, { security: settings.security, timeoutMs: config.CATALOG_IDENTITY_TIMEOUT_MS });
    identities.set(config, client);
  }
  return client;
}

/** The catalog service: course and curriculum folders, categories, courses and lessons,
 * curricula, competencies; course and curriculum search and selections; the catalogue
 * actions of the course and curriculum assistants. Identity is its authority and knows the
 * audiences. The kit runs it (see main.ts). */
export const catalogService: ServiceDefinition<(typeof CatalogConfigSchema)['properties']> = {
  name: 'catalog',
  defaultPort: 50052,
  config: CatalogConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: CATALOG_PERMISSIONS,
  authority: (context) => identityAuthority(identityOf(context)),
  grpc: (context) => catalogGrpcServices(context, identityOf(context)),
  consumers: () => [audienceRemoval],
};
