import { Type, type Static } from '@sinclair/typebox';

/** The catalog service's own environment variables (the kit adds the common ones:
 * CATALOG_GRPC_PORT, CATALOG_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const CatalogConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants of the acting user, audiences' }),
  CATALOG_IDENTITY_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100 }),
});

export type CatalogConfig = Static<typeof CatalogConfigSchema>;
