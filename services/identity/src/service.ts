import { join } from 'node:path';
import {
  createOutbox,
  ensureStream,
  KIT_MIGRATIONS,
  migrate,
  startGrpcServer,
  type Bus,
  type Database,
  type GrpcServer,
  type Logger,
} from '@assistants/kit';
import { ensureBootstrapAdmin } from './bootstrap';
import type { IdentityConfig } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { identityGrpcServices } from './grpc';

export interface IdentityDeps {
  config: IdentityConfig;
  logger: Logger;
  db: Database;
  bus: Bus;
}

export const IDENTITY_MIGRATIONS = { name: 'identity', dir: join(__dirname, '..', 'migrations') };

/** The identity service on the dependencies it is given; main.ts builds the real ones. */
export function createIdentityService(deps: IdentityDeps) {
  const { config, logger, db, bus } = deps;
  const outbox = createOutbox({ db, bus, logger });
  let server: GrpcServer | undefined;
  return {
    outbox,
    async start(): Promise<{ port: number }> {
      await migrate(db, [KIT_MIGRATIONS, IDENTITY_MIGRATIONS], logger);
      await ensureStream(bus, { name: STREAM, subjects: STREAM_SUBJECTS });
      outbox.start();
      if (config.IDENTITY_BOOTSTRAP_ADMIN_LOGIN && config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD) {
        await ensureBootstrapAdmin(outbox, logger, config.IDENTITY_BOOTSTRAP_ADMIN_LOGIN, config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD);
      }
      server = await startGrpcServer({
        host: config.IDENTITY_GRPC_HOST,
        port: config.IDENTITY_GRPC_PORT,
        services: identityGrpcServices({ db, outbox, logger, sessionTtlMinutes: config.IDENTITY_SESSION_TTL_MINUTES }),
        logger,
      });
      return { port: server.port };
    },
    async stop(): Promise<void> {
      await server?.stop();
      await outbox.stop();
    },
  };
}
