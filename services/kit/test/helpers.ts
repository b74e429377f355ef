import { Writable } from 'node:stream';
import { createTestDatabase, startNats, type TestDatabase, type TestNats } from '@assistants/testing';
import {
  connectBus,
  createLogger,
  ensureStream,
  KIT_MIGRATIONS,
  migrate,
  openDatabase,
  type Bus,
  type Database,
  type Logger,
} from '../src';

/** What the kit's integration tests run on: a real nats-server with one stream, and a fresh
 * database on the real PostgreSQL server with the kit's tables in `schema`. */
export interface KitTestBed {
  nats: TestNats;
  pg: TestDatabase;
  db: Database;
  bus: Bus;
  close(): Promise<void>;
}

export async function startKitTestBed(options: {
  schema: string;
  stream: { name: string; subjects: string[] };
  logger: Logger;
  poolSize?: number;
}): Promise<KitTestBed> {
  const { logger } = options;
  const [nats, pg] = await Promise.all([startNats(), createTestDatabase(options.schema)]);
  const db = await openDatabase({ url: pg.url, schema: options.schema, dataDir: '', logger, poolSize: options.poolSize });
  await migrate(db, [KIT_MIGRATIONS], logger);
  const bus = await connectBus(nats.url, `${options.schema}-test`, logger);
  await ensureStream(bus, options.stream);
  return {
    nats,
    pg,
    db,
    bus,
    async close() {
      await bus.close();
      await db.close();
      await Promise.all([nats.stop(), pg.drop()]);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until check() returns something truthy; fails with `what` after timeoutMs. */
export { waitFor } from '@assistants/testing';

/** A logger whose lines the test reads back (JSON objects). */
export function capturingLogger(name: string, level = 'info'): { logger: Logger; lines: () => Record<string, any>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    logger: createLogger(name, level, stream),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l)),
  };
}
