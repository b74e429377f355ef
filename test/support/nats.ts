import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort } from './ports';

export interface TestNats {
  url: string;
  /** Stops the server (SIGTERM) and removes its store. */
  stop(): Promise<void>;
}

/** A real `nats-server -js` on a free port, with a temporary JetStream store. */
export async function startNats(): Promise<TestNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'assistants-nats-'));
  const child: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start nats-server (is it installed?): ${err.message}`))),
  );
  const url = `nats://127.0.0.1:${port}`;
  await Promise.race([waitForNats(url, () => stderr), spawnError]);
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
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
