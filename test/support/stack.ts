import { buildApp } from '@assistants/gateway';
import { GatewayConfigSchema } from '@assistants/gateway/src/config';
import { startHealthServer } from '@assistants/gateway/src/health';
import { createLogger, loadConfig } from '@assistants/kit';
import type { FastifyInstance } from 'fastify';
import { startIdentityFixture, type IdentityFixture, type TestIdentity } from './identity';
import type { TestNats } from './nats';

export const ADMIN = { login: 'admin', password: 'correct horse battery staple' };

export interface TestStack {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The gateway's health server (/healthz, /readyz). */
  healthUrl: string;
  identity: TestIdentity;
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

/** The suite as it runs: real nats-server, a fresh database, identity and the gateway
 * listening on free ports, talked to over real HTTP. */
export async function startStack(gatewayEnv: Record<string, string> = {}): Promise<TestStack> {
  const fixture = await startIdentityFixture('stack', ADMIN);
  const { identity, nats } = fixture;
  let app: FastifyInstance | undefined;
  let health: FastifyInstance | undefined;
  try {
    const config = loadConfig(GatewayConfigSchema, { GATEWAY_PORT: '0', IDENTITY_ADDRESS: identity.address, ...gatewayEnv });
    app = await buildApp({ config, logger: createLogger('gateway', process.env.TEST_LOG_LEVEL ?? 'silent'), identity: fixture.api });
    await app.listen({ host: '127.0.0.1', port: 0 });
    health = await startHealthServer({ host: '127.0.0.1', port: 0, upstreams: { identity: identity.address } });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const healthUrl = `http://127.0.0.1:${(health.server.address() as { port: number }).port}`;
    const adminAuth = basic(ADMIN.login, ADMIN.password);
    const started = { fixture, app, health };
    return {
      url,
      healthUrl,
      identity,
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
      stop: () => stopAll(started),
    };
  } catch (err) {
    await stopAll({ fixture, app, health });
    throw err;
  }
}

async function stopAll(parts: { fixture: IdentityFixture; app?: FastifyInstance; health?: FastifyInstance }) {
  await parts.app?.close();
  await parts.health?.close();
  await parts.fixture.stop();
}
