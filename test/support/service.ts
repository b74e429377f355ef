import {
  createLogger,
  startService,
  type Bus,
  type Database,
  type GrpcSecurity,
  type Outbox,
  type ServiceDefinition,
} from '@assistants/kit';
import type { TProperties } from '@sinclair/typebox';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import { freePort } from './ports';
import type { TestDatabase } from './postgres';
import { startProcess, type TestProcess } from './processes';

/** Where a service started by a test finds NATS and its database, and what else it gets. */
export interface TestServiceOptions {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  port?: number;
  /** Added last: it overrides the rest. */
  env?: Record<string, string>;
  security?: GrpcSecurity;
}

/** The environment of service `name` on `port`: the service token, its port and database
 * (its own schema), NATS, then `own` (its upstreams and settings), then options.env. */
export function serviceEnvironment(
  name: string,
  options: TestServiceOptions,
  port: number,
  own: Record<string, string | undefined>,
): Record<string, string> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error(`the ${name} service needs nats (or natsUrl) and pg (or databaseUrl)`);
  const prefix = name.toUpperCase();
  const given = Object.entries(own).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return {
    ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
    [`${prefix}_GRPC_PORT`]: String(port),
    [`${prefix}_DATABASE_URL`]: databaseUrl,
    NATS_URL: natsUrl,
    ...Object.fromEntries(given),
    ...options.env,
  };
}

/** A service of the suite started in-process by a test, on a real NATS server and database. */
export interface TestService<Client> {
  /** host:port of its gRPC server (the same after restart()). */
  address: string;
  /** Clients acting as nobody; see actingAs. */
  client: Client;
  db: Database;
  bus: Bus;
  outbox: Outbox;
  /** Publishes every event stored so far. */
  flushEvents(): Promise<void>;
  /** Stops it and starts it again on the same port, database and NATS server. */
  restart(): Promise<void>;
  /** Idempotent: a test may stop it early to see how others cope. */
  stop(): Promise<void>;
}

/** Starts `definition` in-process with the environment `env(port)` gives, on `port` (a free
 * one by default), and a client of it. */
export async function startTestService<C extends TProperties, U, P, Client extends { close(): void }>(options: {
  definition: ServiceDefinition<C, U, P>;
  env: (port: number) => Record<string, string>;
  client: (address: string) => Client;
  port?: number;
}): Promise<TestService<Client>> {
  const start = (port: number) =>
    startService(options.definition, {
      logger: createLogger(options.definition.name, process.env.TEST_LOG_LEVEL ?? 'silent'),
      // No metrics server unless the test asks: several services, and test workers, share the
      // machine's ports.
      env: { [`${options.definition.name.toUpperCase()}_METRICS_PORT`]: '0', ...options.env(port) },
    });
  let running = await start(options.port ?? 0);
  let stopped: Promise<void> | undefined;
  const service: TestService<Client> = {
    address: running.address,
    client: options.client(running.address),
    db: running.db,
    bus: running.bus,
    outbox: running.outbox,
    flushEvents: () => running.outbox.flush(),
    async restart() {
      await running.stop();
      running = await start(running.port);
      Object.assign(service, { db: running.db, bus: running.bus, outbox: running.outbox });
      stopped = undefined;
    },
    stop: () =>
      (stopped ??= (async () => {
        service.client.close();
        await running.stop();
      })()),
  };
  return service;
}

/** A service as a process of its own (its main.ts, with the environment a deployment gives
 * it), so that a test can kill it (SIGKILL) and start it again on the same port. */
export interface ServiceProcess<Client> extends TestProcess {
  address: string;
  client: Client;
}

export async function startServiceProcess<Client extends { close(): void }>(options: {
  name: string;
  env: (port: number) => Record<string, string>;
  client: (address: string) => Client;
  port?: number;
}): Promise<ServiceProcess<Client>> {
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const proc = await startProcess({
    name: options.name,
    entry: `services/${options.name}/src/main.ts`,
    env: options.env(port),
    ready: { grpc: address },
  });
  const client = options.client(address);
  const stopProcess = proc.stop.bind(proc);
  return Object.assign(proc, {
    address,
    client,
    async stop() {
      client.close();
      await stopProcess();
    },
  });
}
