import { join } from 'node:path';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { ensureStream, type ServiceContext, type ServiceDefinition } from '@assistants/kit';
import { StatisticsConfigSchema, type StatisticsConfig } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { statisticsGrpcServices } from './grpc';
import { STATISTICS_PERMISSIONS } from './permissions';
import { ExportWorker } from './export/jobs';
import { collectExportMetrics } from './export/metrics';
import { identityProjectionConsumer } from './export/projections';
import { assignmentProjectionConsumer, CONSUMED_STREAMS, catalogProjectionConsumer } from './projections';
import type { Upstreams } from './upstreams';
import { ASSESSMENT_STREAM, assessmentConsumer } from './assessment';

/** What the hooks of one running instance share: the export worker its handlers wake up. */
interface Parts {
  exportWorker: ExportWorker;
}

const parts = ({ db, config, logger }: ServiceContext<StatisticsConfig, Upstreams>): Parts => ({
  exportWorker: new ExportWorker({
    db,
    logger,
    pollMs: config.STATISTICS_EXPORT_POLL_MS,
    leaseSeconds: config.STATISTICS_EXPORT_LEASE_SECONDS,
  }),
});

/** The statistics service: learners' progress on lessons, courses and curricula, the rules
 * their statuses follow, competency scores. It keeps what it needs of the catalogue and of
 * the assignments from their events. The kit runs it (see main.ts). */
export const statisticsService: ServiceDefinition<(typeof StatisticsConfigSchema)['properties'], Upstreams, Parts> = {
  name: 'statistics',
  defaultPort: 50055,
  defaultMetricsPort: 9405,
  config: StatisticsConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: STATISTICS_PERMISSIONS,
  upstreams: (config, settings) => {
    const options = { security: settings.security, timeoutMs: config.STATISTICS_UPSTREAM_TIMEOUT_MS };
    const identity = identityClient(config.IDENTITY_ADDRESS, options);
    const catalog = catalogClient(config.CATALOG_ADDRESS, options);
    return { identity, catalog, close: () => [identity, catalog].forEach((client) => client.close()) };
  },
  parts,
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  grpc: ({ db, outbox, upstreams, logger, parts }) =>
    statisticsGrpcServices({ db, outbox, upstreams, poke: () => parts.exportWorker.poke() }, logger),
  workers: ({ parts }) => [parts.exportWorker],
  collectMetrics: ({ db }) => collectExportMetrics(db),
  // Parts start in any order: the streams it consumes are made here too if the catalog and
  // assignment services have not made them yet (with the same settings: all read the common
  // variables).
  beforeStart: async ({ bus, settings }) => {
    for (const stream of [...CONSUMED_STREAMS, ASSESSMENT_STREAM]) {
      await ensureStream(bus, {
        ...stream,
        maxAgeMs: settings.eventsMaxAgeMs,
        duplicateWindowMs: settings.eventsDuplicateWindowMs,
        replicas: settings.eventsStreamReplicas,
      });
    }
  },
  consumers: () => [catalogProjectionConsumer(), assignmentProjectionConsumer(), identityProjectionConsumer(), assessmentConsumer()],
};
