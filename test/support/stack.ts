import { startGateway, type ActionDefinition, type RunningGateway } from '@assistants/gateway';
import { createLogger } from '@assistants/kit';
import { startAssessment, type TestAssessment } from './assessment';
import { startAssignment, type TestAssignment } from './assignment';
import { startCatalog, type TestCatalog } from './catalog';
import { ADMIN, startIdentityFixture, TEST_SECURITY, type IdentityFixture, type TestIdentity } from './identity';
import { startImport, type TestImport } from './import';
import type { TestNats } from './nats';
import { startNotification, type TestNotification } from './notification';
import { createTestDatabase, type TestDatabase } from './postgres';
import { startStatistics, type TestStatistics } from './statistics';

export { ADMIN };

export interface TestStack {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The gateway's health server (/healthz, /readyz). */
  healthUrl: string;
  identity: TestIdentity;
  /** The catalog service, on identity's NATS server and database (schema "catalog"). */
  catalog: TestCatalog;
  /** The assignment service, on the same NATS server and database (schema "assignment"). */
  assignment: TestAssignment;
  /** The notification service, on the same NATS server and database (schema
   * "notification"), sending to `StackOptions.smtpPort` (none by default: mails stay queued). */
  notification: TestNotification;
  /** The statistics service, on the same NATS server and database (schema "statistics"). */
  statistics: TestStatistics;
  /** The import service, on the same NATS server and database (schema "import"). */
  imports: TestImport;
  /** The assessment service (tests and attempts), on the same NATS server and database (schema "assessment"). */
  assessment: TestAssessment;
  /** Identity, its database and bus, and gRPC clients acting as the administrator. */
  fixture: IdentityFixture;
  nats: TestNats;
  /** Authorization header of the bootstrap administrator (HTTP Basic). */
  adminAuth: string;
  /** The gateway's own database (runs), dropped by stop(). */
  gatewayDb: TestDatabase;
  /** The environment the gateway was started with: another replica (in-process with
   * startGateway, or a child process) started with it shares its database and services. */
  gatewayEnv: Record<string, string>;
  /** The gateway's id as a holder of run batches. */
  gatewayWorkerId: string;
  /** An HTTP request to the gateway, JSON in and out. */
  http(
    method: string,
    path: string,
    options?: { auth?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<HttpResult>;
  stop(): Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
  /** The body's bytes as sent (a byte order mark included). */
  raw: Buffer;
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}

export interface StackOptions {
  /** The actions the gateway's runs may apply (default: all of them). */
  actions?: ActionDefinition[];
  /** The SMTP server the notification service sends to (see startSmtpSink). */
  smtpPort?: number;
  /** More environment for the notification service. */
  notificationEnv?: Record<string, string>;
  /** More environment for the statistics service. */
  statisticsEnv?: Record<string, string>;
  /** More environment for the import service. */
  importEnv?: Record<string, string>;
}

/** The suite as it runs: real nats-server, fresh databases (the services' and the
 * gateway's), identity, the catalog, the assignment service and the gateway listening on
 * free ports, talked to over real HTTP. */
export async function startStack(
  gatewayEnv: Record<string, string> = {},
  identityEnv: Record<string, string> = {},
  options: StackOptions = {},
): Promise<TestStack> {
  const fixture = await startIdentityFixture('stack', identityEnv);
  const { identity, nats } = fixture;
  let gateway: RunningGateway | undefined;
  let catalog: TestCatalog | undefined;
  let assignment: TestAssignment | undefined;
  let notification: TestNotification | undefined;
  let statistics: TestStatistics | undefined;
  let imports: TestImport | undefined;
  let assessment: TestAssessment | undefined;
  let gatewayDb: TestDatabase | undefined;
  try {
    catalog = await startCatalog({ nats, pg: fixture.pg, identityAddress: identity.address });
    assignment = await startAssignment({ nats, pg: fixture.pg, identityAddress: identity.address, catalogAddress: catalog.address });
    notification = await startNotification({
      nats,
      pg: fixture.pg,
      identityAddress: identity.address,
      smtpPort: options.smtpPort,
      env: options.notificationEnv,
    });
    statistics = await startStatistics({
      nats,
      pg: fixture.pg,
      identityAddress: identity.address,
      catalogAddress: catalog.address,
      env: options.statisticsEnv,
    });
    imports = await startImport({
      nats,
      pg: fixture.pg,
      identityAddress: identity.address,
      notificationAddress: notification.address,
      statisticsAddress: statistics.address,
      assignmentAddress: assignment.address,
      catalogAddress: catalog.address,
      env: options.importEnv,
    });
    assessment = await startAssessment({
      nats,
      pg: fixture.pg,
      identityAddress: identity.address,
      catalogAddress: catalog.address,
    });
    gatewayDb = await createTestDatabase('gateway');
    const env = {
      ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken,
      GATEWAY_PORT: '0',
      GATEWAY_HEALTH_PORT: '0',
      IDENTITY_ADDRESS: identity.address,
      CATALOG_ADDRESS: catalog.address,
      ASSIGNMENT_ADDRESS: assignment.address,
      NOTIFICATION_ADDRESS: notification.address,
      STATISTICS_ADDRESS: statistics.address,
      IMPORT_ADDRESS: imports.address,
      ASSESSMENT_ADDRESS: assessment.address,
      GATEWAY_DATABASE_URL: gatewayDb.url,
      // Tests that kill a replica wait for another one to take its work over.
      GATEWAY_RUN_IDLE_POLL_MS: '200',
      ...gatewayEnv,
    };
    gateway = await startGateway({
      logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env,
      actions: options.actions,
    });
    const { url, healthUrl } = gateway;
    const adminAuth = basic(ADMIN.login, ADMIN.password);
    const running = gateway;
    const runningCatalog = catalog;
    const runningAssignment = assignment;
    const runningNotification = notification;
    const runningStatistics = statistics;
    const runningImports = imports;
    const runningAssessment = assessment;
    return {
      url,
      healthUrl,
      identity,
      catalog,
      assignment,
      notification,
      statistics,
      imports,
      assessment,
      fixture,
      nats,
      adminAuth,
      gatewayDb,
      gatewayEnv: env,
      gatewayWorkerId: gateway.workerId,
      async http(method, path, options = {}) {
        const auth = options.auth === undefined ? adminAuth : options.auth;
        const response = await fetch(`${url}${path}`, {
          method,
          headers: {
            ...(auth ? { authorization: auth } : {}),
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        });
        const raw = Buffer.from(await response.arrayBuffer());
        // As response.text() reads it: a byte order mark is dropped (raw keeps it).
        const text = new TextDecoder().decode(raw);
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        return { status: response.status, headers: response.headers, body, raw };
      },
      async stop() {
        await running.stop();
        await runningAssessment.stop();
        await runningStatistics.stop();
        await runningImports.stop();
        await runningNotification.stop();
        await runningAssignment.stop();
        await runningCatalog.stop();
        await fixture.stop();
        await gatewayDb!.drop();
      },
    };
  } catch (err) {
    await gateway?.stop();
    await assessment?.stop();
    await statistics?.stop();
    await imports?.stop();
    await notification?.stop();
    await assignment?.stop();
    await catalog?.stop();
    await fixture.stop();
    await gatewayDb?.drop();
    throw err;
  }
}
