// The container health check (deploy/Dockerfile's HEALTHCHECK): exits 0 when the part of
// this container answers its health check, 1 otherwise. It imports only what it needs (not
// the kit's index) so that a check every few seconds stays cheap.
//   node --conditions=assistants-dist services/kit/dist/healthcheck.js <part>
// A service: grpc.health.v1 Check ("" = the whole server) on 127.0.0.1:<PART>_GRPC_PORT,
// with the part's own gRPC security (its service token, its TLS files when given). The
// gateway: GET http://127.0.0.1:<GATEWAY_HEALTH_PORT>/healthz.
// ASSISTANTS_HEALTHCHECK_ADDRESS overrides host:port (e.g. the name a TLS certificate holds).
import { loadConfig } from './config';
import { checkGrpcHealth } from './grpc-health';
import { grpcSecurity, SecurityConfigSchema } from './security';

/** The default gRPC port of each service (its definition's defaultPort). */
export const DEFAULT_GRPC_PORTS: Record<string, number> = {
  identity: 50051,
  catalog: 50052,
  assignment: 50053,
  notification: 50054,
  statistics: 50055,
  import: 50056,
  assessment: 50057,
};

/** Whether `part` (a service name or "gateway") answers its health check. */
export async function checkPartHealth(part: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (part === 'gateway') {
    const address = env.ASSISTANTS_HEALTHCHECK_ADDRESS || `127.0.0.1:${env.GATEWAY_HEALTH_PORT || 3001}`;
    return fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
  }
  const defaultPort = DEFAULT_GRPC_PORTS[part];
  if (defaultPort === undefined) throw new Error(`unknown part "${part}" (one of gateway, ${Object.keys(DEFAULT_GRPC_PORTS).join(', ')})`);
  const address = env.ASSISTANTS_HEALTHCHECK_ADDRESS || `127.0.0.1:${env[`${part.toUpperCase()}_GRPC_PORT`] || defaultPort}`;
  return checkGrpcHealth(address, { security: grpcSecurity(loadConfig(SecurityConfigSchema, env)), timeoutMs: 2000 });
}

if (require.main === module) {
  const part = process.argv[2] ?? process.env.ASSISTANTS_PART ?? '';
  checkPartHealth(part).then(
    (healthy) => {
      if (!healthy) process.stderr.write(`${part}: not healthy\n`);
      process.exit(healthy ? 0 : 1);
    },
    (err: Error) => {
      process.stderr.write(`${part}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
