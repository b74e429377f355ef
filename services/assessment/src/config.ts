import { Type, type Static } from '@sinclair/typebox';

/** The assessment service's own environment variables (the kit adds the common ones:
 * ASSESSMENT_GRPC_PORT, ASSESSMENT_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const AssessmentConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants, users, organisations of tests' }),
  CATALOG_ADDRESS: Type.String({ default: '127.0.0.1:50052', description: 'catalog: the course and lesson that play a test' }),
  ASSESSMENT_UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100, description: 'deadline of a call to identity or catalog' }),
});

export type AssessmentConfig = Static<typeof AssessmentConfigSchema>;
