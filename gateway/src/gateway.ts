import { assignmentClient } from '@assistants/assignment/client';
import { catalogClient } from '@assistants/catalog/client';
import { identityClient } from '@assistants/identity/client';
import { createLogger, grpcClient, grpcSecurity, loadConfig, type Logger } from '@assistants/kit';
import { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import { buildApp } from './app';
import { GatewayConfigSchema } from './config';
import { startHealthServer } from './health';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  healthUrl: string;
  stop(): Promise<void>;
}

/** The gateway from its environment: clients of the services, the API, the health port. */
export async function startGateway(options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway');
  const config = loadConfig(GatewayConfigSchema, options.env ?? process.env);
  const security = grpcSecurity(config);
  const timeoutMs = config.GATEWAY_UPSTREAM_TIMEOUT_MS;
  const identity = identityClient(config.IDENTITY_ADDRESS, { security, timeoutMs });
  const catalog = catalogClient(config.CATALOG_ADDRESS, { security, timeoutMs });
  const assignment = assignmentClient(config.ASSIGNMENT_ADDRESS, { security, timeoutMs });
  const services = { identity: config.IDENTITY_ADDRESS, catalog: config.CATALOG_ADDRESS, assignment: config.ASSIGNMENT_ADDRESS };
  const ops = Object.fromEntries(
    Object.entries(services).map(([name, address]) => [
      name,
      grpcClient(OpsServiceClient, address, { security, serviceName: name, timeoutMs }),
    ]),
  );
  const app = await buildApp({ config, logger, identity, catalog, assignment, ops });
  await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  const health = await startHealthServer({
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_HEALTH_PORT,
    upstreams: services,
    security,
  });
  const address = (server: { address(): unknown }) => `http://${config.GATEWAY_HOST}:${(server.address() as { port: number }).port}`;
  return {
    url: address(app.server),
    healthUrl: address(health.server),
    async stop() {
      await app.close();
      await health.close();
      identity.close();
      catalog.close();
      assignment.close();
      Object.values(ops).forEach((c) => c.close());
    },
  };
}
