import { startGateway, type RunningGateway } from '@assistants/gateway';
import { createLogger } from '@assistants/kit';
import { startAssignment, type TestAssignment } from './assignment';
import { startCatalog, type TestCatalog } from './catalog';
import { ADMIN, startIdentityFixture, TEST_SECURITY, type IdentityFixture, type TestIdentity } from './identity';
import type { TestNats } from './nats';

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
  /** Identity, its database and bus, and gRPC clients acting as the administrator. */
  fixture: IdentityFixture;
  nats: TestNats;
  /** Authorization header of the bootstrap administrator (HTTP Basic). */
  adminAuth: string;
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
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}

/** The suite as it runs: real nats-server, a fresh database, identity, the catalog, the
 * assignment service and the gateway listening on free ports, talked to over real HTTP. */
export async function startStack(gatewayEnv: Record<string, string> = {}, identityEnv: Record<string, string> = {}): Promise<TestStack> {
  const fixture = await startIdentityFixture('stack', identityEnv);
  const { identity, nats } = fixture;
  let gateway: RunningGateway | undefined;
  let catalog: TestCatalog | undefined;
  let assignment: TestAssignment | undefined;
  try {
    catalog = await startCatalog({ nats, pg: fixture.pg, identityAddress: identity.address });
    assignment = await startAssignment({ nats, pg: fixture.pg, identityAddress: identity.address, catalogAddress: catalog.address });
    gateway = await startGateway({
      logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'),
      env: {
        ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken,
        GATEWAY_PORT: '0',
        GATEWAY_HEALTH_PORT: '0',
        IDENTITY_ADDRESS: identity.address,
        CATALOG_ADDRESS: catalog.address,
        ASSIGNMENT_ADDRESS: assignment.address,
        ...gatewayEnv,
      },
    });
    const { url, healthUrl } = gateway;
    const adminAuth = basic(ADMIN.login, ADMIN.password);
    const running = gateway;
    const runningCatalog = catalog;
    const runningAssignment = assignment;
    return {
      url,
      healthUrl,
      identity,
      catalog,
      assignment,
      fixture,
      nats,
      adminAuth,
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
        const text = await response.text();
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        return { status: response.status, headers: response.headers, body };
      },
      async stop() {
        await running.stop();
        await runningAssignment.stop();
        await runningCatalog.stop();
        await fixture.stop();
      },
    };
  } catch (err) {
    await gateway?.stop();
    await assignment?.stop();
    await catalog?.stop();
    await fixture.stop();
    throw err;
  }
}
