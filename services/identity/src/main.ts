import { connectBus, createLogger, loadConfig, openDatabase, runService } from '@assistants/kit';
import { IdentityConfigSchema } from './config';
import { createIdentityService } from './service';

const logger = createLogger('identity');

void runService(logger, async () => {
  const config = loadConfig(IdentityConfigSchema);
  const db = await openDatabase({
    url: config.IDENTITY_DATABASE_URL ?? config.DATABASE_URL,
    schema: 'identity',
    dataDir: config.IDENTITY_DATA_DIR,
    extensions: ['pg_trgm'],
    logger,
  });
  const bus = await connectBus(config.NATS_URL, 'identity', logger);
  const service = createIdentityService({ config, logger, db, bus });
  await service.start();
  return {
    async stop() {
      await service.stop();
      await bus.close();
      await db.close();
    },
  };
});
