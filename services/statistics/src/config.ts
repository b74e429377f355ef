import { Type, type Static } from '@sinclair/typebox';

/** The statistics service's own environment variables (the kit adds the common ones:
 * STATISTICS_GRPC_PORT, STATISTICS_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const StatisticsConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants, users of a batch' }),
  CATALOG_ADDRESS: Type.String({ default: '127.0.0.1:50052', description: 'catalog: the course of S1, the competencies of U20' }),
  STATISTICS_UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100, description: 'deadline of a call to identity or catalog' }),
  STATISTICS_EXPORT_POLL_MS: Type.Integer({
    default: 1_000,
    minimum: 10,
    description: 'how often a replica looks for an export job to run',
  }),
  STATISTICS_EXPORT_LEASE_SECONDS: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'an export job without a heartbeat for this long (its process died) is started over',
  }),
});

export type StatisticsConfig = Static<typeof StatisticsConfigSchema>;
