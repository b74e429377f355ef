import pg from 'pg';
import { ADMIN, TEST_SECURITY } from './identity';
import { TEST_IMPORT_SECRET_KEY } from './import';
import { TEST_NOTIFICATION_SECRET_KEY } from './notification';
import { freePort } from './ports';
import { startProcess, type TestProcess } from './processes';
import { basic } from './stack';

/** Every part of the suite in its own process (their main.ts, as `npm start` runs them) on
 * one database (a schema each) and one NATS server: what the benchmarks measure. */
export interface SuiteProcesses {
  processes: TestProcess[];
  /** The gateway's API, e.g. http://127.0.0.1:41234 */
  api: string;
  /** The one database of every service (a schema each): what a benchmark seeds by SQL. */
  databaseUrl: string;
  /** An HTTP call to the API as the first administrator; throws on a non-2xx answer. */
  call(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

export async function startSuiteProcesses(options: {
  natsUrl: string;
  databaseUrl: string;
  /** Starts the notification service too, sending to this SMTP port. */
  smtpPort?: number;
  notificationEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Run the compiled parts (`npm run build` first) with plain node, as containers do. */
  compiled?: boolean;
}): Promise<SuiteProcesses> {
  const processes: TestProcess[] = [];
  const common = { ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken, NATS_URL: options.natsUrl, LOG_LEVEL: 'warn' };
  const address = async () => `127.0.0.1:${await freePort()}`;
  const start = async (name: string, env: Record<string, string>, ready: { grpc: string } | { http: string }) => {
    const entry = `${name === 'gateway' ? 'gateway' : `services/${name}`}/${options.compiled ? 'dist/main.js' : 'src/main.ts'}`;
    processes.push(
      await startProcess({ name, entry, env: { ...common, ...env }, ready, readyTimeoutMs: 60_000, compiled: options.compiled }),
    );
  };
  const port = (hostPort: string) => hostPort.split(':')[1]!;
  const [gatewayPort, healthPort] = [await freePort(), await freePort()];
  try {
    const identity = await address();
    const catalog = await address();
    const assignment = await address();
    const notification = await address();
    const statistics = await address();
    const imports = await address();
    const assessment = await address();
    const db = options.databaseUrl;
    const admin = { IDENTITY_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login, IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password };
    await start('identity', { IDENTITY_GRPC_PORT: port(identity), IDENTITY_DATABASE_URL: db, ...admin }, { grpc: identity });
    await start('catalog', { CATALOG_GRPC_PORT: port(catalog), CATALOG_DATABASE_URL: db, IDENTITY_ADDRESS: identity }, { grpc: catalog });
    const upstreams = { IDENTITY_ADDRESS: identity, CATALOG_ADDRESS: catalog };
    await start('assignment', { ASSIGNMENT_GRPC_PORT: port(assignment), ASSIGNMENT_DATABASE_URL: db, ...upstreams }, { grpc: assignment });
    await start('statistics', { STATISTICS_GRPC_PORT: port(statistics), STATISTICS_DATABASE_URL: db, ...upstreams }, { grpc: statistics });
    await start('assessment', { ASSESSMENT_GRPC_PORT: port(assessment), ASSESSMENT_DATABASE_URL: db, ...upstreams }, { grpc: assessment });
    if (options.smtpPort !== undefined) {
      const env = {
        NOTIFICATION_GRPC_PORT: port(notification),
        NOTIFICATION_DATABASE_URL: db,
        NOTIFICATION_SECRET_KEY: TEST_NOTIFICATION_SECRET_KEY,
        NOTIFICATION_SMTP_HOST: '127.0.0.1',
        NOTIFICATION_SMTP_PORT: String(options.smtpPort),
        IDENTITY_ADDRESS: identity,
        ...options.notificationEnv,
      };
      await start('notification', env, { grpc: notification });
    }
    const importEnv = {
      IMPORT_GRPC_PORT: port(imports),
      IMPORT_DATABASE_URL: db,
      IMPORT_SECRET_KEY: TEST_IMPORT_SECRET_KEY,
      IDENTITY_ADDRESS: identity,
      STATISTICS_ADDRESS: statistics,
      ASSIGNMENT_ADDRESS: assignment,
      CATALOG_ADDRESS: catalog,
    };
    const welcomeMails: Record<string, string> = options.smtpPort === undefined ? {} : { NOTIFICATION_ADDRESS: notification };
    await start('import', { ...importEnv, ...welcomeMails }, { grpc: imports });
    await start(
      'gateway',
      {
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_HEALTH_PORT: String(healthPort),
        GATEWAY_DATABASE_URL: db,
        ...upstreams,
        ASSIGNMENT_ADDRESS: assignment,
        NOTIFICATION_ADDRESS: notification,
        STATISTICS_ADDRESS: statistics,
        IMPORT_ADDRESS: imports,
        ASSESSMENT_ADDRESS: assessment,
        GATEWAY_RATE_LIMIT_PER_MINUTE: '100000',
        ...options.gatewayEnv,
      },
      // /readyz checks every service the gateway calls, the notification service among them
      // (started only when a bench sends mails).
      { http: `http://127.0.0.1:${healthPort}/${options.smtpPort === undefined ? 'healthz' : 'readyz'}` },
    );
  } catch (error) {
    for (const p of processes.reverse()) await p.stop().catch(() => {});
    throw error;
  }
  const api = `http://127.0.0.1:${gatewayPort}`;
  const auth = basic(ADMIN.login, ADMIN.password);
  return {
    processes,
    api,
    databaseUrl: options.databaseUrl,
    async call(method, path, body) {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async stop() {
      for (const p of [...processes].reverse()) await p.stop().catch(() => {});
    },
  };
}

/** Loads `count` users of the root organisation by SQL (a benchmark measures what comes
 * after); identity's triggers keep its search projection as for any insert. Their custom
 * field 1 holds `mark`, for a selection by filter; their email is bench.<n>@example.com. */
export async function seedBenchUsers(databaseUrl: string, count: number, mark: string): Promise<void> {
  // identity's triggers name their tables unqualified, as identity's own connections do.
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=identity' });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO identity.users (login, last_name, first_name, email, language, organisation_id, custom1)
       SELECT 'bench.' || i, 'Learner ' || i, 'Bench', 'bench.' || i || '@example.com', 'fr-FR', o.id, $2
       FROM generate_series(1, $1::int) i, (SELECT id FROM identity.organisations WHERE parent_id IS NULL) o`,
      [count, mark],
    );
    await db.query('ANALYZE identity.users');
  } finally {
    await db.end();
  }
}
