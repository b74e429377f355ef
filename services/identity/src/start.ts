import { connectBus, openDatabase, type Logger } from '@assistants/kit';
import type { IdentityConfig } from './config';
import { createIdentityService } from './service';

/** Builds the real dependencies from the configuration (database, bus), then starts the
 * service on them. main.ts runs this; tests run it in-process. */
export async function startIdentity(config: IdentityConfig, logger: Logger) {
  const db = await openDatabase({
    url: config.IDENTITY_DATABASE_URL ?? config.DATABASE_URL,
    schema: 'identity',
    dataDir: config.IDENTITY_DATA_DIR,
    extensions: ['pg_trgm'],
    logger,
  });
  const bus = await connectBus(config.NATS_URL, 'identity', logger);
  const service = createIdentityService({ config, logger, db, bus });
  const { port } = await service.start();
  return {
    port,
    db,
    bus,
    outbox: service.outbox,
    async stop() {
      await service.stop();
      await bus.close();
      await db.close();
    },
  };
}
