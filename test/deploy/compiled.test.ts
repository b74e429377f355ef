import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { assessmentService } from '@assistants/assessment';
import { assignmentService } from '@assistants/assignment';
import { catalogService } from '@assistants/catalog';
import { identityService } from '@assistants/identity';
import { importService } from '@assistants/import';
import { checkGrpcHealth } from '@assistants/kit';
import { DEFAULT_GRPC_PORTS } from '@assistants/kit/healthcheck';
import { notificationService } from '@assistants/notification';
import { statisticsService } from '@assistants/statistics';
import pg from 'pg';
import {
  ADMIN,
  createTestDatabase,
  freePort,
  startNats,
  startProcess,
  TEST_SECURITY,
  type TestDatabase,
  type TestNats,
  type TestProcess,
} from '../support';

// What a container runs (deploy/Dockerfile): `npm run build` (tsc -b, incremental: a few
// seconds once built, a minute or two from a fresh clone), then the compiled identity service
// and gateway with plain node (no TypeScript loader), on a real PostgreSQL and NATS.

const ROOT = join(__dirname, '..', '..');

/** Runs a compiled file with plain node, as the Dockerfile does; its exit code and output. */
function node(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--conditions=assistants-dist', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('the compiled build', () => {
  let nats: TestNats;
  let db: TestDatabase;
  const processes: TestProcess[] = [];

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    [nats, db] = await Promise.all([startNats(), createTestDatabase('compiled')]);
  }, 660_000);

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop();
    await nats?.stop();
    await db?.drop();
  });

  it('runs identity and the gateway with plain node: migrations applied, health checks answered', async () => {
    const identityPort = await freePort();
    const common = { ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken, DATABASE_URL: db.url };
    processes.push(
      await startProcess({
        name: 'identity (compiled)',
        entry: 'services/identity/dist/main.js',
        compiled: true,
        readyTimeoutMs: 90_000, // (a loaded two-core machine)
        env: {
          ...common,
          NATS_URL: nats.url,
          IDENTITY_GRPC_PORT: String(identityPort),
          IDENTITY_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login,
          IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        },
        ready: { grpc: `127.0.0.1:${identityPort}` },
      }),
    );
    expect(await checkGrpcHealth(`127.0.0.1:${identityPort}`, { security: TEST_SECURITY })).toBe(true);

    const [gatewayPort, healthPort] = [await freePort(), await freePort()];
    processes.push(
      await startProcess({
        name: 'gateway (compiled)',
        entry: 'gateway/dist/main.js',
        compiled: true,
        readyTimeoutMs: 90_000, // (a loaded two-core machine)
        env: {
          ...common,
          IDENTITY_ADDRESS: `127.0.0.1:${identityPort}`,
          GATEWAY_PORT: String(gatewayPort),
          GATEWAY_HEALTH_PORT: String(healthPort),
        },
        ready: { http: `http://127.0.0.1:${healthPort}/healthz` },
      }),
    );
    const healthz = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    // The API works end to end through the compiled code: a login checked by identity.
    const login = await fetch(`http://127.0.0.1:${gatewayPort}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ADMIN.login}:${ADMIN.password}`).toString('base64')}` },
    });
    expect(login.status).toBe(201);

    // The migrations were found beside the compiled code (services/identity/migrations,
    // gateway/migrations, services/kit/migrations).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ schema: string; id: string }>(
        `SELECT 'identity' AS schema, id FROM identity.schema_migrations UNION ALL SELECT 'gateway', id FROM gateway.schema_migrations`,
      );
      expect(rows.some((r) => r.schema === 'identity' && r.id.startsWith('identity/'))).toBe(true);
      expect(rows.some((r) => r.schema === 'identity' && r.id.startsWith('kit/'))).toBe(true);
      expect(rows.some((r) => r.schema === 'gateway' && r.id.startsWith('gateway/'))).toBe(true);
    } finally {
      await client.end();
    }

    // The container's HEALTHCHECK command, for a service and for the gateway.
    const serviceCheck = node(['services/kit/dist/healthcheck.js', 'identity'], {
      ...common,
      IDENTITY_GRPC_PORT: String(identityPort),
    });
    expect(serviceCheck.stderr).toBe('');
    expect(serviceCheck.status).toBe(0);
    const gatewayCheck = node(['services/kit/dist/healthcheck.js', 'gateway'], { GATEWAY_HEALTH_PORT: String(healthPort) });
    expect(gatewayCheck.status).toBe(0);
    // A part that does not answer fails its check.
    const down = node(['services/kit/dist/healthcheck.js', 'catalog'], { ...common, CATALOG_GRPC_PORT: String(await freePort()) });
    expect(down.status).toBe(1);
  });

  it('resolves every workspace to its compiled JavaScript, never to TypeScript sources', () => {
    const script = `
      const parts = ['@assistants/kit', '@assistants/identity', '@assistants/catalog', '@assistants/assignment',
        '@assistants/notification', '@assistants/statistics', '@assistants/import', '@assistants/assessment',
        '@assistants/gateway', '@assistants/import/engine', '@assistants/identity/client',
        '@assistants/proto/gen/identity/v1/users'];
      for (const p of parts) require(p);
      const ts = Object.keys(require.cache).filter((f) => f.endsWith('.ts'));
      console.log(JSON.stringify(ts));`;
    const result = node(['-e', script], { ASSISTANTS_SERVICE_TOKEN: TEST_SECURITY.serviceToken });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it("knows each service's default port for the container health check", () => {
    const definitions = [
      identityService,
      catalogService,
      assignmentService,
      notificationService,
      statisticsService,
      importService,
      assessmentService,
    ];
    expect(DEFAULT_GRPC_PORTS).toEqual(Object.fromEntries(definitions.map((d) => [d.name, d.defaultPort])));
  });
});
