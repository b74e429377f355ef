import { ADMIN, TEST_SECURITY } from './identity';
import { TEST_IMPORT_SECRET_KEY } from './import';
import { TEST_NOTIFICATION_SECRET_KEY } from './notification';
import { freePort } from './ports';
import { startProcess, type TestProcess } from './processes';
import { basic } from './stack';

/** The services in the order they start (each after those it calls). */
export const SUITE_SERVICES = ['identity', 'catalog', 'assignment', 'statistics', 'assessment', 'notification', 'import'] as const;
export type SuiteServiceName = (typeof SUITE_SERVICES)[number];
export type SuitePartName = SuiteServiceName | 'gateway';

/** Whom each part calls (its `<NAME>_ADDRESS` variables). */
const UPSTREAMS: Record<SuitePartName, SuiteServiceName[]> = {
  identity: [],
  catalog: ['identity'],
  assignment: ['identity', 'catalog'],
  statistics: ['identity', 'catalog'],
  assessment: ['identity', 'catalog'],
  notification: ['identity'],
  import: ['identity', 'notification', 'statistics', 'assignment', 'catalog'],
  gateway: ['identity', 'catalog', 'assignment', 'notification', 'statistics', 'import', 'assessment'],
};

/** Connections of each process to PostgreSQL (REPLICAS_POOL_SIZE): 2 × 8 processes × 4 = 64. */
const POOL_SIZE = Number(process.env.REPLICAS_POOL_SIZE ?? 4);

/** One running process of the suite: `part` and its instance number (1, 2...). */
export interface SuiteReplica extends TestProcess {
  part: SuitePartName;
  instance: number;
}

/** Every part of the suite `replicas` times, each instance its own process (its main.ts), on
 * one database (a schema per part, shared by the instances of that part) and one NATS
 * server: what several replicas of every Deployment do on one PostgreSQL and one NATS. */
export interface ReplicatedSuite {
  /** Every process, named `<part>#<instance>` (identity#1, identity#2, ... gateway#2). */
  processes: SuiteReplica[];
  /** The gateways' APIs, e.g. http://127.0.0.1:41234 (one per gateway instance). */
  apis: string[];
  databaseUrl: string;
  /** An HTTP call to gateway `gateway` (0-based) as the first administrator; throws on a non-2xx answer. */
  call(gateway: number, method: string, path: string, body?: unknown): Promise<any>;
  /** The Authorization header of the first administrator. */
  auth: string;
  stop(): Promise<void>;
}

export interface ReplicatedSuiteOptions {
  natsUrl: string;
  databaseUrl: string;
  /** Where the notification services send (see startSmtpSink, startMailCounter). */
  smtpPort: number;
  /** Instances of every part (default 2). */
  replicas?: number;
  /** More environment per part (every instance of it). */
  env?: Partial<Record<SuitePartName, Record<string, string>>>;
  /** Run the compiled parts (`npm run build` first) with plain node, as containers do: they
   * start (and start again after a kill) without the TypeScript loader's work. */
  compiled?: boolean;
}

/**
 * Starts `replicas` instances of every service, then of the gateway, each on free ports.
 *
 * A Kubernetes Service spreads connections over its pods and a client reconnects to another
 * pod when its pod dies. Here each caller gets every instance of its upstream as one gRPC
 * target (`ipv4:a,b`, grpc-js's pick_first: the first that answers) starting with the
 * instance of its own number: gateway#1 and the instances #1 call the instances #1, #2 call
 * #2, and a caller whose instance is down (killed) goes to the other until it fails in turn.
 */
export async function startReplicatedSuite(options: ReplicatedSuiteOptions): Promise<ReplicatedSuite> {
  const replicas = options.replicas ?? 2;
  const processes: SuiteReplica[] = [];
  const ports = async () => Promise.all(Array.from({ length: replicas }, () => freePort()));
  const grpcPorts = Object.fromEntries(await Promise.all(SUITE_SERVICES.map(async (s) => [s, await ports()] as const))) as Record<
    SuiteServiceName,
    number[]
  >;
  const [gatewayPorts, healthPorts] = [await ports(), await ports()];
  /** The target an instance `instance` (1-based) uses for `service`: its own number first. */
  const target = (service: SuiteServiceName, instance: number) => {
    const all = grpcPorts[service].map((p) => `127.0.0.1:${p}`);
    const ordered = [...all.slice(instance - 1), ...all.slice(0, instance - 1)];
    return ordered.length === 1 ? ordered[0]! : `ipv4:${ordered.join(',')}`;
  };
  const environment = (part: SuitePartName, instance: number): Record<string, string> => {
    const db = options.databaseUrl;
    const env: Record<string, string> = {
      ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken,
      NATS_URL: options.natsUrl,
      LOG_LEVEL: 'warn',
      // 16 processes of 10 connections would pass PostgreSQL's default max_connections (100).
      [`${part.toUpperCase()}_DATABASE_POOL_SIZE`]: String(POOL_SIZE),
    };
    for (const upstream of UPSTREAMS[part]) env[`${upstream.toUpperCase()}_ADDRESS`] = target(upstream, instance);
    if (part === 'gateway') {
      Object.assign(env, {
        GATEWAY_PORT: String(gatewayPorts[instance - 1]),
        GATEWAY_HEALTH_PORT: String(healthPorts[instance - 1]),
        GATEWAY_DATABASE_URL: db,
        GATEWAY_RATE_LIMIT_PER_MINUTE: '100000',
      });
    } else {
      const prefix = part.toUpperCase();
      Object.assign(env, { [`${prefix}_GRPC_PORT`]: String(grpcPorts[part][instance - 1]), [`${prefix}_DATABASE_URL`]: db });
    }
    if (part === 'identity') {
      Object.assign(env, { IDENTITY_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login, IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password });
    }
    if (part === 'notification') {
      Object.assign(env, {
        NOTIFICATION_SECRET_KEY: TEST_NOTIFICATION_SECRET_KEY,
        NOTIFICATION_SMTP_HOST: '127.0.0.1',
        NOTIFICATION_SMTP_PORT: String(options.smtpPort),
      });
    }
    if (part === 'import') env.IMPORT_SECRET_KEY = TEST_IMPORT_SECRET_KEY;
    return { ...env, ...options.env?.[part] };
  };
  const start = async (part: SuitePartName, instance: number) => {
    const ready =
      part === 'gateway'
        ? { http: `http://127.0.0.1:${healthPorts[instance - 1]}/healthz` }
        : { grpc: `127.0.0.1:${grpcPorts[part][instance - 1]}` };
    const proc = await startProcess({
      name: `${part}#${instance}`,
      entry: `${part === 'gateway' ? 'gateway' : `services/${part}`}/${options.compiled ? 'dist/main.js' : 'src/main.ts'}`,
      compiled: options.compiled,
      env: environment(part, instance),
      ready,
      readyTimeoutMs: 120_000,
    });
    processes.push(Object.assign(proc, { part, instance }));
  };
  try {
    // The first instance of each part alone (it applies the migrations and creates the
    // streams), then the others of that part together.
    for (const part of [...SUITE_SERVICES, 'gateway'] as const) {
      await start(part, 1);
      await Promise.all(Array.from({ length: replicas - 1 }, (_, i) => start(part, i + 2)));
    }
  } catch (error) {
    for (const p of processes.reverse()) await p.stop().catch(() => {});
    throw error;
  }
  const apis = gatewayPorts.map((p) => `http://127.0.0.1:${p}`);
  const auth = basic(ADMIN.login, ADMIN.password);
  return {
    processes,
    apis,
    databaseUrl: options.databaseUrl,
    auth,
    async call(gateway, method, path, body) {
      const response = await fetch(`${apis[gateway]}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${apis[gateway]}${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async stop() {
      // Gateways first, then the services in the reverse order of their start.
      for (const p of [...processes].reverse()) await p.stop().catch(() => {});
    },
  };
}
