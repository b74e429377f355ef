import type * as grpc from '@grpc/grpc-js';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { loadConfig } from './config';
import { startConsumer, type Consumer, type ConsumerHandler } from './consumer';
import { KIT_MIGRATIONS, migrate, openDatabase, type Database } from './db';
import { asDomainError } from './errors';
import { connectBus, ensureStream, type Bus } from './events';
import { startGrpcServer, type GrpcSecurity, type GrpcServer } from './grpc';
import { runProcess } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { onScrape, startMetricsServer, type MetricsServer } from './metrics';
import { pruneBatches } from './batch';
import { opsGrpcService, type PrincipalGrants } from './ops';
import { createOutbox, type Outbox } from './outbox';
import { KIT_PERMISSIONS, type PermissionDeclaration } from './permissions';
import { grpcSecurity, SecurityConfigSchema } from './security';
import { collectEventMetrics } from './service-metrics';

/** How a service reaches the authority on users and grants (the identity service): to learn
 * the grants of a call's acting user, and to declare its own permissions when it starts. */
export interface Authority {
  principal(actorId: string): Promise<PrincipalGrants>;
  registerPermissions(service: string, permissions: PermissionDeclaration[]): Promise<void>;
}

/** A reaction to other services' events (see consumer.ts): the handler runs in a transaction
 * of this service in which the kit has claimed the event, and may emit events in it. */
export type ConsumerDefinition = ConsumerHandler & {
  /** The producing domain's stream, e.g. `IDENTITY`. */
  stream: string;
  /** `<this service>-<purpose>`, e.g. `assignment-list-enrolment`. */
  durable: string;
  /** One subject filter, e.g. `identity.list-member.>`. */
  subject: string;
  /** Events held at once, when this consumer needs another number than EVENTS_PREFETCH (a
   * group handler gets its groups out of them). */
  prefetch?: number;
};

/** What a service is: its name, its tables, its stream, its gRPC handlers. Everything else
 * (configuration, logger, database, migrations, stream, outbox relay, gRPC server with
 * health and service credentials, ordered shutdown) is the same for every service and
 * done here. */
export interface ServiceDefinition<C extends TProperties = TProperties, U = undefined, P = undefined> {
  /** Lower case: the database schema, the env prefix (IDENTITY_…) and the logger's name. */
  name: string;
  /** Its gRPC port unless <NAME>_GRPC_PORT says otherwise. */
  defaultPort: number;
  /** Its Prometheus port (GET /metrics) unless <NAME>_METRICS_PORT says otherwise; 0 (the
   * default): none. */
  defaultMetricsPort?: number;
  /** Its own environment variables (the common ones are added, see commonSettings). */
  config?: TObject<C>;
  /** Folder of NNN_<what>.sql files, applied in order after the kit's own. */
  migrations: string;
  /** PGlite contrib extensions the migrations create (for the embedded database). */
  extensions?: string[];
  /** Its JetStream stream: `IDENTITY` owning `identity.>`. */
  stream: { name: string; subjects: string[] };
  /** The permissions of its domain, declared to identity when it starts (the kit adds its
   * own, events:manage). */
  permissions: PermissionDeclaration[];
  /** The clients of the other services it calls, made once at start, handed to every hook
   * below as `context.upstreams`, and closed (their `close()`) at stop. */
  upstreams?(config: Static<TObject<C>>, settings: CommonSettings): U;
  /** What its hooks share within one running instance (e.g. the mail sender its gRPC handlers
   * wake up), made once after the database opens, handed to every hook below as
   * `context.parts`. Tests run several instances in one process: nothing module-level. */
  parts?(context: ServiceContext<Static<TObject<C>>, U>): P;
  /** How it reaches identity (identity itself answers from its own tables). */
  authority(context: ServiceContext<Static<TObject<C>>, U, P>): Authority;
  grpc(context: ServiceContext<Static<TObject<C>>, U, P>): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  consumers?(context: ServiceContext<Static<TObject<C>>, U, P>): ConsumerDefinition[];
  /** Runs once the database is migrated and the relay runs, before the gRPC server opens. */
  beforeStart?(context: ServiceContext<Static<TObject<C>>, U, P>): Promise<void>;
  /** Sets its own gauges (made with scrapedGauge) before each scrape, e.g. jobs waiting;
   * the kit's (outbox, consumers, dead letters) are set by the kit. */
  collectMetrics?(context: ServiceContext<Static<TObject<C>>, U, P>): Promise<void>;
  /** Background loops of every replica (e.g. a mail sender), started after the consumers and
   * stopped right after the gRPC server, before the consumers, the outbox and the database. */
  workers?(context: ServiceContext<Static<TObject<C>>, U, P>): BackgroundWorker[];
}

export interface BackgroundWorker {
  start(): void;
  stop(): Promise<void>;
}

export interface ServiceContext<Config = Record<string, unknown>, U = undefined, P = undefined> {
  name: string;
  config: Config;
  upstreams: U;
  parts: P;
  settings: CommonSettings;
  logger: Logger;
  db: Database;
  bus: Bus;
  outbox: Outbox;
}

/** The settings every service has, read from prefixed and shared variables. */
export interface CommonSettings {
  grpcHost: string;
  grpcPort: number;
  /** 0: no metrics server. It listens on grpcHost. */
  metricsPort: number;
  databaseUrl?: string;
  dataDir: string;
  databasePoolSize: number;
  statementTimeoutMs: number;
  natsUrl: string;
  eventsMaxAgeMs: number;
  eventsDuplicateWindowMs: number;
  eventsStreamReplicas: number;
  consumerMaxDeliveries: number;
  consumerAckWaitMs: number;
  consumerPrefetch: number;
  batchesKeepMs: number;
  security: GrpcSecurity;
}

/** The variables behind CommonSettings, for a service called `name`. */
export function commonConfigSchema(name: string, defaultPort: number, defaultMetricsPort = 0) {
  const p = name.toUpperCase();
  return Type.Object({
    ...SecurityConfigSchema.properties,
    [`${p}_GRPC_HOST`]: Type.String({ default: '127.0.0.1', description: 'address its gRPC server binds to (0.0.0.0 in a container)' }),
    [`${p}_GRPC_PORT`]: Type.Integer({ default: defaultPort, minimum: 0, maximum: 65535 }),
    [`${p}_METRICS_PORT`]: Type.Integer({
      default: defaultMetricsPort,
      minimum: 0,
      maximum: 65535,
      description: `Prometheus metrics (GET /metrics) on this port, on ${p}_GRPC_HOST; 0: off`,
    }),
    [`${p}_DATABASE_URL`]: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'its own database' })),
    DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: `a shared database (schema "${name}")` })),
    [`${p}_DATA_DIR`]: Type.String({ default: `.data/${name}`, description: 'embedded PGlite data, when no database URL is set' }),
    [`${p}_DATABASE_POOL_SIZE`]: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
    DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ default: 60_000, minimum: 100, description: 'longest statement, deadline or not' }),
    NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
    EVENTS_MAX_AGE_HOURS: Type.Number({ default: 168, exclusiveMinimum: 0, description: 'how long streams keep events' }),
    EVENTS_DUPLICATE_WINDOW_SECONDS: Type.Integer({ default: 600, minimum: 1, description: 'JetStream de-duplication by event id' }),
    EVENTS_STREAM_REPLICAS: Type.Integer({
      default: 1,
      minimum: 1,
      maximum: 5,
      description: 'copies of its stream in a JetStream cluster (3 in production; 1 on a single server)',
    }),
    EVENTS_MAX_DELIVERIES: Type.Integer({ default: 5, minimum: 1, description: 'failed deliveries before a dead letter' }),
    EVENTS_ACK_WAIT_SECONDS: Type.Integer({ default: 60, minimum: 1, description: 'redelivery after this long without an ack' }),
    EVENTS_PREFETCH: Type.Integer({ default: 8, minimum: 1, maximum: 256, description: 'events a consumer holds at once' }),
    BATCHES_KEEP_HOURS: Type.Number({ default: 168, exclusiveMinimum: 0, description: 'how long applied batches answer a repeated key' }),
  });
}

function commonSettings(name: string, values: Record<string, unknown>): CommonSettings {
  const p = name.toUpperCase();
  return {
    grpcHost: values[`${p}_GRPC_HOST`] as string,
    grpcPort: values[`${p}_GRPC_PORT`] as number,
    metricsPort: values[`${p}_METRICS_PORT`] as number,
    databaseUrl: (values[`${p}_DATABASE_URL`] ?? values.DATABASE_URL) as string | undefined,
    dataDir: values[`${p}_DATA_DIR`] as string,
    databasePoolSize: values[`${p}_DATABASE_POOL_SIZE`] as number,
    statementTimeoutMs: values.DATABASE_STATEMENT_TIMEOUT_MS as number,
    natsUrl: values.NATS_URL as string,
    eventsMaxAgeMs: (values.EVENTS_MAX_AGE_HOURS as number) * 3_600_000,
    eventsDuplicateWindowMs: (values.EVENTS_DUPLICATE_WINDOW_SECONDS as number) * 1000,
    eventsStreamReplicas: values.EVENTS_STREAM_REPLICAS as number,
    consumerMaxDeliveries: values.EVENTS_MAX_DELIVERIES as number,
    consumerAckWaitMs: (values.EVENTS_ACK_WAIT_SECONDS as number) * 1000,
    consumerPrefetch: values.EVENTS_PREFETCH as number,
    batchesKeepMs: (values.BATCHES_KEEP_HOURS as number) * 3_600_000,
    security: grpcSecurity(values as Static<typeof SecurityConfigSchema>),
  };
}

export interface RunningService<Config = Record<string, unknown>, U = undefined, P = undefined> extends ServiceContext<Config, U, P> {
  consumers: Consumer[];
  port: number;
  /** host:port of its gRPC server. */
  address: string;
  /** The port of its metrics server, when it has one. */
  metricsPort?: number;
  stop(): Promise<void>;
}

/** Reads the configuration from `env`, opens the database and the bus, applies the
 * migrations, ensures the stream, starts the outbox relay, declares the permissions, runs
 * beforeStart, starts the consumers and opens the gRPC server (its services and the kit's
 * OpsService). stop() undoes it in the reverse order. */
export async function startService<C extends TProperties, U = undefined, P = undefined>(
  definition: ServiceDefinition<C, U, P>,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<RunningService<Static<TObject<C>>, U, P>> {
  const { name } = definition;
  const logger = options.logger ?? createLogger(name);
  const schema: TObject = Type.Object({
    ...commonConfigSchema(name, definition.defaultPort, definition.defaultMetricsPort).properties,
    ...definition.config?.properties,
  });
  const values = loadConfig(schema, options.env ?? process.env) as Record<string, unknown>;
  const settings = commonSettings(name, values);
  const config = values as Static<TObject<C>>;

  const db = await openDatabase({
    url: settings.databaseUrl,
    schema: name,
    dataDir: settings.dataDir,
    extensions: definition.extensions,
    poolSize: settings.databasePoolSize,
    statementTimeoutMs: settings.statementTimeoutMs,
    logger,
  });
  const upstreams = definition.upstreams?.(config, settings) as U;
  let bus: Bus | undefined;
  let outbox: Outbox | undefined;
  let server: GrpcServer | undefined;
  let metrics: MetricsServer | undefined;
  let stopCollecting: (() => void) | undefined;
  const consumers: Consumer[] = [];
  const workers: BackgroundWorker[] = [];
  let pruning: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(pruning);
    stopCollecting?.();
    await metrics?.stop();
    await server?.stop();
    for (const worker of workers.splice(0)) await worker.stop();
    for (const consumer of consumers.splice(0)) await consumer.stop();
    await outbox?.stop();
    (upstreams as { close?(): void } | undefined)?.close?.();
    await bus?.close();
    await db.close();
  };
  try {
    bus = await connectBus(settings.natsUrl, name, logger);
    outbox = createOutbox({ db, bus, logger, service: name });
    const bare: ServiceContext<Static<TObject<C>>, U> = { name, config, upstreams, parts: undefined, settings, logger, db, bus, outbox };
    const context: ServiceContext<Static<TObject<C>>, U, P> = { ...bare, parts: definition.parts?.(bare) as P };
    await migrate(db, [KIT_MIGRATIONS, { name, dir: definition.migrations }], logger);
    await ensureStream(bus, {
      ...definition.stream,
      maxAgeMs: settings.eventsMaxAgeMs,
      duplicateWindowMs: settings.eventsDuplicateWindowMs,
      replicas: settings.eventsStreamReplicas,
    });
    outbox.start();
    // A run or import resumes within hours; the recorded results of older batches can go.
    const prune = () =>
      pruneBatches(db, settings.batchesKeepMs / 3_600_000).catch((error) => logger.warn({ err: error }, 'pruning applied batches failed'));
    await prune();
    pruning = setInterval(prune, 3_600_000).unref();
    const authority = definition.authority(context);
    await untilAuthorityAnswers(logger, () => authority.registerPermissions(name, [...definition.permissions, ...KIT_PERMISSIONS]));
    await definition.beforeStart?.(context);
    for (const consumer of definition.consumers?.(context) ?? []) {
      consumers.push(
        await startConsumer({
          ...consumer,
          bus,
          outbox,
          logger,
          maxDeliveries: settings.consumerMaxDeliveries,
          ackWaitMs: settings.consumerAckWaitMs,
          prefetch: consumer.prefetch ?? settings.consumerPrefetch,
          inboxRetentionMs: settings.eventsMaxAgeMs,
        }),
      );
    }
    for (const worker of definition.workers?.(context) ?? []) {
      worker.start();
      workers.push(worker);
    }
    const ops = opsGrpcService({ name, db, consumers: () => consumers, principals: (actorId) => authority.principal(actorId), logger });
    server = await startGrpcServer({
      host: settings.grpcHost,
      port: settings.grpcPort,
      services: [...definition.grpc(context), ops],
      security: settings.security,
      logger,
    });
    const port = server.port;
    stopCollecting = onScrape(name, logger, async () => {
      await Promise.all([collectEventMetrics(name, db, consumers), definition.collectMetrics?.(context)]);
    });
    if (settings.metricsPort !== 0) metrics = await startMetricsServer({ host: settings.grpcHost, port: settings.metricsPort, logger });
    return {
      ...context,
      consumers,
      port,
      address: `${settings.grpcHost === '0.0.0.0' ? '127.0.0.1' : settings.grpcHost}:${port}`,
      metricsPort: metrics?.port,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Parts start in any order (npm start, a Kubernetes rollout): while the authority is not
 * up yet, ask again with back-off for up to two minutes instead of exiting. */
async function untilAuthorityAnswers(logger: Logger, call: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      return await call();
    } catch (error) {
      const code = asDomainError(error)?.code;
      if ((code !== 'UNAVAILABLE' && code !== 'DEADLINE_EXCEEDED') || Date.now() + delayMs > deadline) throw error;
      logger.info({ retryInMs: delayMs }, 'the identity service does not answer yet: waiting for it');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** A service's main.ts: starts it from the environment and stops it on SIGTERM or SIGINT. */
export function runService<C extends TProperties, U, P>(definition: ServiceDefinition<C, U, P>): void {
  const logger = createLogger(definition.name);
  void runProcess(logger, () => startService(definition, { logger }));
}
