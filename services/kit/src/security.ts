import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from './config';
import type { GrpcSecurity } from './grpc-health';

/** The variables every part of the suite reads to call, and be called by, the others. */
export const SecurityConfigSchema = Type.Object({
  ASSISTANTS_SERVICE_TOKEN: Type.String({
    minLength: 32,
    description: 'shared secret of the parts of the suite; every gRPC call carries it (generate with: openssl rand -base64 48)',
  }),
  GRPC_TLS_CERT: Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate file this part presents as a gRPC server' })),
  GRPC_TLS_KEY: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file of GRPC_TLS_CERT' })),
  GRPC_TLS_CA: Type.Optional(
    Type.String({ minLength: 1, description: 'PEM file of the authority that signed the services’ certificates' }),
  ),
});

export type SecurityConfig = Static<typeof SecurityConfigSchema>;

/** The gRPC security of this process: the token, and TLS when its three files are given
 * (all three or none: half a TLS setup is a mistake, not a choice). */
export function grpcSecurity(config: SecurityConfig): GrpcSecurity {
  const files = { GRPC_TLS_CERT: config.GRPC_TLS_CERT, GRPC_TLS_KEY: config.GRPC_TLS_KEY, GRPC_TLS_CA: config.GRPC_TLS_CA };
  const given = Object.entries(files).filter(([, v]) => v !== undefined);
  if (given.length === 0) return { serviceToken: config.ASSISTANTS_SERVICE_TOKEN };
  if (given.length < 3) {
    const missing = Object.keys(files).filter((k) => files[k as keyof typeof files] === undefined);
    throw new ConfigError(
      `invalid configuration:\n  ${missing.join(', ')}: not set (TLS needs GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CA)`,
    );
  }
  const read = (name: keyof typeof files) => {
    try {
      return readFileSync(files[name]!);
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  ${name}: cannot read ${files[name]} (${(err as NodeJS.ErrnoException).code})`);
    }
  };
  return {
    serviceToken: config.ASSISTANTS_SERVICE_TOKEN,
    tls: { cert: read('GRPC_TLS_CERT'), key: read('GRPC_TLS_KEY'), ca: read('GRPC_TLS_CA') },
  };
}
