import { Type, type Static } from '@sinclair/typebox';

/** Environment variables of the identity service (see the README's configuration table). */
export const IdentityConfigSchema = Type.Object({
  IDENTITY_GRPC_HOST: Type.String({ default: '127.0.0.1', description: 'address the gRPC server binds to' }),
  IDENTITY_GRPC_PORT: Type.Integer({ default: 50051, minimum: 0, maximum: 65535 }),
  IDENTITY_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'its own database' })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'shared database (schema "identity")' })),
  IDENTITY_DATA_DIR: Type.String({ default: '.data/identity', description: 'embedded PGlite data, when no database URL' }),
  NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
  IDENTITY_SESSION_TTL_MINUTES: Type.Integer({ default: 480, minimum: 5, maximum: 43200 }),
  IDENTITY_BOOTSTRAP_ADMIN_LOGIN: Type.Optional(Type.String({ minLength: 1 })),
  IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
});

export type IdentityConfig = Static<typeof IdentityConfigSchema>;
