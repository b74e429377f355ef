import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports';

export interface GatewayProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Kills it at once (SIGKILL, as a crash would): what it was doing is left half done. */
  kill(): Promise<void>;
  /** Stops it as an operator would (SIGTERM: it finishes its batches in flight). */
  stop(): Promise<void>;
}

const MAIN = join(__dirname, '..', '..', 'gateway', 'src', 'main.ts');

/** The gateway as its own process (gateway/src/main.ts), on free ports, with `env` (e.g. a
 * TestStack's gatewayEnv, to be another replica on the same database and services).
 * Resolves once its API answers. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
      GATEWAY_PORT: String(port),
      GATEWAY_HEALTH_PORT: String(healthPort),
    },
    // TEST_GATEWAY_STDOUT=1 (with TEST_LOG_LEVEL=info) shows its log.
    stdio: ['ignore', process.env.TEST_GATEWAY_STDOUT ? 'inherit' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway process exited (${child.exitCode}): ${stderr}`);
    // Any answer (401 without credentials) means the API listens.
    const answered = await fetch(`${url}/v1/me`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await end('SIGKILL');
      throw new Error(`the gateway process did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
