import { createLogger, loadConfig, runService } from '@assistants/kit';
import { buildApp } from './app';
import { identityClients } from './clients';
import { GatewayConfigSchema } from './config';
import { startHealthServer } from './health';

const logger = createLogger('gateway');

void runService(logger, async () => {
  const config = loadConfig(GatewayConfigSchema);
  const identity = identityClients(config.IDENTITY_ADDRESS);
  const app = await buildApp({ config, logger, identity });
  await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  const health = await startHealthServer({
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_HEALTH_PORT,
    upstreams: { identity: config.IDENTITY_ADDRESS },
  });
  return {
    async stop() {
      await app.close();
      await health.close();
      identity.close();
    },
  };
});
