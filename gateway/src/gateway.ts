import { assignmentClient } from '@assistants/assignment/client';
import { catalogClient } from '@assistants/catalog/client';
import { identityClient, type IdentityClient } from '@assistants/identity/client';
import { importClient } from '@assistants/import/client';
import { notificationClient } from '@assistants/notification/client';
import { statisticsClient } from '@assistants/statistics/client';
import { assessmentClient } from '@assistants/assessment/client';
import { createLogger, grpcClient, grpcSecurity, loadConfig, onScrape, withContext, type Logger } from '@assistants/kit';
import { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import type { ActionDefinition } from './actions/action';
import { ACTIONS } from './actions';
import { buildApp } from './app';
import { GatewayConfigSchema } from './config';
import { openGatewayDatabase } from './database';
import { startHealthServer } from './health';
import { READ_ALL_RUNS } from './routes/runs';
import { MergeEngine } from './merges/engine';
import { collectRunMetrics } from './metrics';
import { MergeWorker } from './merges/worker';
import { RunEngine } from './runs/engine';
import { ActionRegistry } from './runs/registry';
import { SELECTION_RESOLVERS } from './runs/selections';
import { RunWorker } from './runs/worker';
import type { Upstreams } from './upstreams';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  healthUrl: string;
  /** This process as the holder of run batches (run_batches.lease_owner). */
  workerId: string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** The actions runs may apply (default: every action of the suite, actions/index.ts). */
  actions?: ActionDefinition[];
}

/** The gateway from its environment: clients of the services, its database, the API, the
 * run worker, the health port. */
export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway');
  const config = loadConfig(GatewayConfigSchema, options.env ?? process.env);
  const security = grpcSecurity(config);
  const timeoutMs = config.GATEWAY_UPSTREAM_TIMEOUT_MS;
  const identity = identityClient(config.IDENTITY_ADDRESS, { security, timeoutMs });
  const catalog = catalogClient(config.CATALOG_ADDRESS, { security, timeoutMs });
  const assignment = assignmentClient(config.ASSIGNMENT_ADDRESS, { security, timeoutMs });
  const notification = notificationClient(config.NOTIFICATION_ADDRESS, { security, timeoutMs });
  const imports = importClient(config.IMPORT_ADDRESS, { security, timeoutMs });
  const statistics = statisticsClient(config.STATISTICS_ADDRESS, { security, timeoutMs });
  const assessment = assessmentClient(config.ASSESSMENT_ADDRESS, { security, timeoutMs });
  const upstreams: Upstreams = { identity, catalog, assignment, notification, statistics };
  const services = {
    identity: config.IDENTITY_ADDRESS,
    catalog: config.CATALOG_ADDRESS,
    assignment: config.ASSIGNMENT_ADDRESS,
    notification: config.NOTIFICATION_ADDRESS,
    statistics: config.STATISTICS_ADDRESS,
    import: config.IMPORT_ADDRESS,
    assessment: config.ASSESSMENT_ADDRESS,
  };
  const ops = Object.fromEntries(
    Object.entries(services).map(([name, address]) => [
      name,
      grpcClient(OpsServiceClient, address, { security, serviceName: name, timeoutMs }),
    ]),
  );
  const closeClients = () => {
    identity.close();
    catalog.close();
    assignment.close();
    notification.close();
    statistics.close();
    imports.close();
    assessment.close();
    Object.values(ops).forEach((c) => c.close());
  };
  const db = await openGatewayDatabase(config, logger).catch((err) => {
    closeClients();
    throw err;
  });
  const actions = new ActionRegistry(options.actions ?? ACTIONS);
  const worker = new RunWorker({
    db,
    upstreams,
    actions,
    logger,
    concurrency: config.GATEWAY_RUN_CONCURRENCY,
    leaseSeconds: config.GATEWAY_RUN_LEASE_SECONDS,
    pollMs: config.GATEWAY_RUN_POLL_MS,
    idlePollMs: config.GATEWAY_RUN_IDLE_POLL_MS,
  });
  const runs = new RunEngine({
    db,
    upstreams,
    actions,
    resolvers: SELECTION_RESOLVERS,
    worker,
    batchSize: config.GATEWAY_RUN_BATCH_SIZE,
    maxItems: config.GATEWAY_RUN_MAX_ITEMS,
  });
  // Merges share the runs' settings: the same replicas, leases and polling.
  const mergeWorker = new MergeWorker({
    db,
    upstreams,
    logger,
    concurrency: config.GATEWAY_RUN_CONCURRENCY,
    leaseSeconds: config.GATEWAY_RUN_LEASE_SECONDS,
    pollMs: config.GATEWAY_RUN_POLL_MS,
    idlePollMs: config.GATEWAY_RUN_IDLE_POLL_MS,
  });
  const merges = new MergeEngine({ db, upstreams, worker: mergeWorker });
  const permissions = declarePermissions(identity, logger);
  const app = await buildApp({
    config,
    logger,
    identity,
    catalog,
    assignment,
    notification,
    statistics,
    imports,
    assessment,
    ops,
    runs,
    merges,
  });
  await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  const health = await startHealthServer({
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_HEALTH_PORT,
    upstreams: services,
    security,
    checks: { database: () => db.query('SELECT 1').then(() => true) },
  });
  // Runs resume on their own: batches left by a stopped or killed replica are claimed again
  // once their lease runs out.
  worker.start();
  mergeWorker.start();
  const stopCollecting = onScrape('gateway', logger, () => collectRunMetrics(db));
  await permissions.first;
  const address = (server: { address(): unknown }) => `http://${config.GATEWAY_HOST}:${(server.address() as { port: number }).port}`;
  return {
    url: address(app.server),
    healthUrl: address(health.server),
    workerId: worker.owner,
    async stop() {
      permissions.stop();
      stopCollecting();
      await app.close();
      await worker.stop();
      await mergeWorker.stop();
      await health.close();
      await db.close();
      closeClients();
    },
  };
}

const RETRY_DECLARATION_MS = 5000;

/** The gateway's own permission, declared to identity (the registry roles are checked
 * against) when it starts; while identity is away, again every few seconds. */
function declarePermissions(identity: IdentityClient, logger: Logger): { first: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const declare = (): Promise<void> =>
    withContext({ actorId: undefined }, () =>
      identity.roles.registerPermissions({
        service: 'gateway',
        permissions: [
          { name: READ_ALL_RUNS, description: 'see every user’s assistant runs and their results', rootOnly: true, service: 'gateway' },
        ],
      }),
    ).then(
      () => undefined,
      (err) => {
        logger.warn({ err }, 'cannot declare the gateway’s permissions to identity yet: trying again');
        if (!stopped) timer = setTimeout(() => void declare(), RETRY_DECLARATION_MS);
      },
    );
  return {
    first: declare(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
