import { join } from 'node:path';
import { assignmentClient } from '@assistants/assignment/client';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceContext, ServiceDefinition } from '@assistants/kit';
import { notificationClient } from '@assistants/notification/client';
import { statisticsClient } from '@assistants/statistics/client';
import { ImportConfigSchema, type ImportConfig } from './config';
import { importGrpcServices } from './grpc';
import { collectImportMetrics } from './metrics';
import { IMPORT_PERMISSIONS } from './permissions';
import { ImportPruner } from './prune';
import type { Upstreams } from './upstreams';
import { ImportWorker } from './worker';

/** What the hooks of one running instance share: the worker its handlers wake up. */
interface Parts {
  worker: ImportWorker;
}

const parts = ({ db, upstreams, config, logger }: ServiceContext<ImportConfig, Upstreams>): Parts => ({
  worker: new ImportWorker({ db, upstreams, config, logger }),
});

/** The import service: uploads, import jobs and their log and rejects files. Identity is its
 * authority; each kind's rows go to the service that owns what they change (identity: I1, I2,
 * I7; assignment: I3, I4; statistics: I5, I6, I9; catalog: I8). The kit runs it (see main.ts). */
export const importService: ServiceDefinition<(typeof ImportConfigSchema)['properties'], Upstreams, Parts> = {
  name: 'import',
  defaultPort: 50056,
  defaultMetricsPort: 9406,
  config: ImportConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  // No events yet: what an import changes is published by the services that own it.
  stream: { name: 'IMPORT', subjects: ['import.>'] },
  permissions: IMPORT_PERMISSIONS,
  upstreams: (config, settings) => {
    const options = { security: settings.security, timeoutMs: config.IMPORT_UPSTREAM_TIMEOUT_MS };
    const identity = identityClient(config.IDENTITY_ADDRESS, options);
    const notification = notificationClient(config.NOTIFICATION_ADDRESS, options);
    const statistics = statisticsClient(config.STATISTICS_ADDRESS, options);
    const assignment = assignmentClient(config.ASSIGNMENT_ADDRESS, options);
    const catalog = catalogClient(config.CATALOG_ADDRESS, options);
    return {
      identity,
      notification,
      statistics,
      assignment,
      catalog,
      close: () => {
        identity.close();
        notification.close();
        statistics.close();
        assignment.close();
        catalog.close();
      },
    };
  },
  parts,
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  workers: (context) => [
    new ImportPruner({
      db: context.db,
      retention: { jobDays: context.config.IMPORT_KEEP_DAYS, uploadHours: context.config.IMPORT_UPLOAD_KEEP_HOURS },
      everyMs: context.config.IMPORT_PRUNE_INTERVAL_MINUTES * 60_000,
      logger: context.logger,
    }),
    ...(context.config.IMPORT_WORKER_ENABLED ? [context.parts.worker] : []),
  ],
  grpc: (context) => importGrpcServices(context, () => context.parts.worker.poke()),
  collectMetrics: ({ db, config }) => collectImportMetrics(db, config.IMPORT_LEASE_SECONDS),
};
