import { Type, type Static } from '@sinclair/typebox';

/** The assignment service's own environment variables (the kit adds the common ones:
 * ASSIGNMENT_GRPC_PORT, ASSIGNMENT_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const AssignmentConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants, users of a batch, list members' }),
  CATALOG_ADDRESS: Type.String({ default: '127.0.0.1:50052', description: 'catalog: courses and curricula of an action' }),
  ASSIGNMENT_UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100, description: 'deadline of a call to identity or catalog' }),
});

export type AssignmentConfig = Static<typeof AssignmentConfigSchema>;
