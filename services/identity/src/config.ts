import { Type, type Static } from '@sinclair/typebox';

/** The identity service's own environment variables (the kit adds the common ones:
 * IDENTITY_GRPC_PORT, IDENTITY_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...; see the
 * README's configuration table). */
export const IdentityConfigSchema = Type.Object({
  IDENTITY_SESSION_TTL_MINUTES: Type.Integer({ default: 480, minimum: 5, maximum: 43200 }),
  IDENTITY_BOOTSTRAP_ADMIN_LOGIN: Type.Optional(Type.String({ minLength: 1 })),
  IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  IDENTITY_LOGIN_MAX_FAILURES: Type.Integer({ default: 10, minimum: 1, description: 'failed logins per login and window' }),
  IDENTITY_LOGIN_FAILURE_WINDOW_MINUTES: Type.Integer({ default: 15, minimum: 1 }),
});

export type IdentityConfig = Static<typeof IdentityConfigSchema>;
