import { join } from 'node:path';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { ensureStream, type Database, type ServiceContext, type ServiceDefinition } from '@assistants/kit';
import { StatisticsConfigSchema, type StatisticsConfig } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { statisticsGrpcServices } from './grpc';
import { STATISTICS_PERMISSIONS } from './permissions';
import { ExportWorker } from './export/jobs';
import { identityProjectionConsumer } from './export/projections';
import { assignmentProjectionConsumer, CONSUMED_STREAMS, catalogProjectionConsumer } from './projections';
import type { Upstreams } from './upstreams';

/** The export worker of a running service (one per database, i.e. per started instance). */
const workers = new WeakMap<Database, ExportWorker>();
function exportWorker({ db, config, logger }: ServiceContext<StatisticsConfig, Upstreams>): ExportWorker {
  let worker = workers.get(db);
  if (!worker) {
    worker = new ExportWorker({
      db,
      logger,
      pollMs: config.STATISTICS_EXPORT_POLL_MS,
      leaseSeconds: config.STATISTICS_EXPORT_LEASE_SECONDS,
    });
    workers.set(db, worker);
  }
  return worker;
}

/** The statistics service: learners' progress on lessons, courses and curricula, the rules
 * their statuses follow, competency scores. It keeps what it needs of the catalogue and of
 * the assignments from their events. The kit runs it (see main.ts). */
export const statisticsService: ServiceDefinition<(typeof StatisticsConfigSchema)['properties'], Upstreams> = {
  name: 'statistics',
  defaultPort: 50055,
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
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  grpc: (context) => {
    const { db, outbox, upstreams, logger } = context;
    return statisticsGrpcServices({ db, outbox, upstreams, poke: () => exportWorker(context).poke() }, logger);
  },
  workers: (context) => [exportWorker(context)],
  // Parts start in any order: the streams it consumes are made here too if the catalog and
  // assignment services have not made them yet (with the same settings: all read the common
  // variables).
  beforeStart: async ({ bus, settings }) => {
    for (const stream of CONSUMED_STREAMS) {
      await ensureStream(bus, { ...stream, maxAgeMs: settings.eventsMaxAgeMs, duplicateWindowMs: settings.eventsDuplicateWindowMs });
    }
  },
  consumers: () => [catalogProjectionConsumer(), assignmentProjectionConsumer(), identityProjectionConsumer()],
};
