import { assignmentService } from '@assistants/assignment';
import { assignmentClient, type AssignmentClient } from '@assistants/assignment/client';
import { createLogger, startService, type Bus, type Database, type GrpcSecurity, type Outbox, type RunningService } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import { freePort } from './ports';
import { startProcess, type TestProcess } from './processes';
import type { TestDatabase } from './postgres';

export interface AssignmentOptions {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  identityAddress: string;
  catalogAddress: string;
  port?: number;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}

export interface TestAssignment {
  /** host:port of its gRPC server (the same after restart()). */
  address: string;
  /** Clients acting as nobody; see actingAs. */
  client: AssignmentClient;
  db: Database;
  bus: Bus;
  outbox: Outbox;
  /** Publishes every event stored so far. */
  flushEvents(): Promise<void>;
  /** Stops it and starts it again on the same port, database and NATS server. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function environment(options: AssignmentOptions, port: number): Record<string, string> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error('the assignment service needs nats (or natsUrl) and pg (or databaseUrl)');
  return {
    ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
    ASSIGNMENT_GRPC_PORT: String(port),
    ASSIGNMENT_DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    IDENTITY_ADDRESS: options.identityAddress,
    CATALOG_ADDRESS: options.catalogAddress,
    ...options.env,
  };
}

/** The assignment service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "assignment": it may share identity's
 * database), with identity and catalog at the given addresses. */
export async function startAssignment(options: AssignmentOptions): Promise<TestAssignment> {
  const security = options.security ?? TEST_SECURITY;
  const start = (port: number) =>
    startService(assignmentService, {
      logger: createLogger('assignment', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: environment(options, port),
    });
  let running: RunningService<unknown, unknown> = await start(options.port ?? 0);
  let stopped: Promise<void> | undefined;
  const assignment: TestAssignment = {
    address: running.address,
    client: assignmentClient(running.address, { security }),
    db: running.db,
    bus: running.bus,
    outbox: running.outbox,
    flushEvents: () => running.outbox.flush(),
    async restart() {
      await running.stop();
      running = await start(running.port);
      Object.assign(assignment, { db: running.db, bus: running.bus, outbox: running.outbox });
      stopped = undefined;
    },
    stop: () =>
      (stopped ??= (async () => {
        assignment.client.close();
        await running.stop();
      })()),
  };
  return assignment;
}

export interface AssignmentProcess extends TestProcess {
  /** host:port of its gRPC server (the same after restart()). */
  address: string;
  /** Clients acting as nobody; see actingAs. */
  client: AssignmentClient;
}

/** The assignment service as a process of its own (services/assignment/src/main.ts, with the
 * environment a deployment gives it), so that a test can kill it (SIGKILL) mid-run and start
 * it again on the same port. */
export async function startAssignmentProcess(options: AssignmentOptions): Promise<AssignmentProcess> {
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'assignment',
    entry: 'services/assignment/src/main.ts',
    env: environment(options, port),
    ready: { grpc: address },
  });
  const client = assignmentClient(address, { security: options.security ?? TEST_SECURITY });
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

export { assignmentClient, type AssignmentClient };
