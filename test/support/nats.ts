import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort } from './ports';

export interface TestNats {
  url: string;
  /** Kills the server at once (SIGKILL, as a crash would), keeping its port and store. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store (killing it first if it runs). */
  restart(): Promise<void>;
  /** Stops the server (SIGTERM) and removes its store. */
  stop(): Promise<void>;
}

/** A real `nats-server -js` on a free port, with a temporary JetStream store. */
export async function startNats(): Promise<TestNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'assistants-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess = await spawnNats(port, storeDir, url);
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    }
  };
  return {
    url,
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGKILL');
      child = await spawnNats(port, storeDir, url);
    },
    async stop() {
      await end('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

async function spawnNats(port: number, storeDir: string, url: string): Promise<ChildProcess> {
  const child: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start nats-server (is it installed?): ${err.message}`))),
  );
  await Promise.race([waitForNats(url, () => stderr), spawnError]);
  return child;
}

async function waitForNats(url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nats-server did not start: ${String(err)}\n${stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
