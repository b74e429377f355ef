import { join } from 'node:path';
import { migrate, openDatabase, type Database, type Logger } from '@assistants/kit';
import type { GatewayConfig } from './config';

/** The gateway's own tables (assistant runs), in schema "gateway": on PostgreSQL when a URL
 * is set, else embedded PGlite in GATEWAY_DATA_DIR. Migrated before the API opens. */
export async function openGatewayDatabase(config: GatewayConfig, logger: Logger): Promise<Database> {
  const db = await openDatabase({
    url: config.GATEWAY_DATABASE_URL ?? config.DATABASE_URL,
    schema: 'gateway',
    dataDir: config.GATEWAY_DATA_DIR,
    poolSize: config.GATEWAY_DATABASE_POOL_SIZE,
    logger,
  });
  try {
    await migrate(db, [{ name: 'gateway', dir: join(__dirname, '..', 'migrations') }], logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
