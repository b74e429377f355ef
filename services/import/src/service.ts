import { join } from 'node:path';
import { assignmentClient } from '@assistants/assignment/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceContext, ServiceDefinition } from '@assistants/kit';
import { notificationClient } from '@assistants/notification/client';
import { ImportConfigSchema, type ImportConfig } from './config';
import { importGrpcServices } from './grpc';
import { IMPORT_PERMISSIONS } from './permissions';
import { ImportPruner } from './prune';
import type { Upstreams } from './upstreams';
import { ImportWorker } from './worker';

type Context = ServiceContext<ImportConfig, Upstreams>;

/** One worker per running instance (tests run several in one process). */
const workers = new WeakMap<object, ImportWorker>();
function workerOf(context: Context): ImportWorker {
  let worker = workers.get(context.db);
  if (!worker) {
    worker = new ImportWorker({ db: context.db, upstreams: context.upstreams, config: context.config, logger: context.logger });
    workers.set(context.db, worker);
  }
  return worker;
}

/** The import service: uploads, import jobs and their log and rejects files. Identity is its
 * authority and owns what I1 and I2 change; the assignment service what I3 and I4 change. The kit runs it (see main.ts). */
export const importService: ServiceDefinition<(typeof ImportConfigSchema)['properties'], Upstreams> = {
  name: 'import',
  defaultPort: 50056,
  config: ImportConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  // No events yet: what an import changes is published by the services that own it.
  stream: { name: 'IMPORT', subjects: ['import.>'] },
  permissions: IMPORT_PERMISSIONS,
  upstreams: (config, settings) => {
    const options = { security: settings.security, timeoutMs: config.IMPORT_UPSTREAM_TIMEOUT_MS };
    const identity = identityClient(config.IDENTITY_ADDRESS, options);
    const notification = notificationClient(config.NOTIFICATION_ADDRESS, options);
    const assignment = assignmentClient(config.ASSIGNMENT_ADDRESS, options);
    return {
      identity,
      notification,
      assignment,
      close: () => {
        identity.close();
        notification.close();
        assignment.close();
      },
    };
  },
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  workers: (context) => [
    new ImportPruner({
      db: context.db,
      retention: { jobDays: context.config.IMPORT_KEEP_DAYS, uploadHours: context.config.IMPORT_UPLOAD_KEEP_HOURS },
      everyMs: context.config.IMPORT_PRUNE_INTERVAL_MINUTES * 60_000,
      logger: context.logger,
    }),
    ...(context.config.IMPORT_WORKER_ENABLED ? [workerOf(context)] : []),
  ],
  grpc: (context) => importGrpcServices(context, () => workerOf(context).poke()),
};
