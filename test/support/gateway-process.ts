import { freePort } from './ports';
import { startProcess } from './processes';

export interface GatewayProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Kills it at once (SIGKILL, as a crash would): what it was doing is left half done. */
  kill(): Promise<void>;
  /** Stops it as an operator would (SIGTERM: it finishes its batches in flight). */
  stop(): Promise<void>;
}

/** The gateway as its own process (gateway/src/main.ts), on free ports, with `env` (e.g. a
 * TestStack's gatewayEnv, to be another replica on the same database and services).
 * Resolves once its API answers. TEST_LOG_LEVEL=info shows its log. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const gateway = await startProcess({
    name: 'gateway',
    entry: 'gateway/src/main.ts',
    env: { ...env, GATEWAY_PORT: String(port), GATEWAY_HEALTH_PORT: String(healthPort) },
    // Any answer (401 without credentials) means the API listens.
    ready: { answers: `${url}/v1/me` },
  });
  return {
    url,
    get pid() {
      return gateway.pid;
    },
    kill: () => gateway.kill('SIGKILL'),
    stop: () => gateway.stop(),
  };
}
