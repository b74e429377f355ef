import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkGrpcHealth } from '@assistants/kit';
import { TEST_SECURITY } from './identity';

const ROOT = join(__dirname, '..', '..');

/** A part of the suite running as its own process (its main.ts, as `npm start` runs it), so
 * that a test can kill it with SIGKILL and start it again. */
export interface TestProcess {
  readonly name: string;
  readonly pid: number;
  /** Sends the signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends the signal and returns at once: SIGSTOP freezes the process, SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
  /** Starts the same entry with the same environment again, and waits until it is ready. */
  restart(): Promise<void>;
  /** The highest resident memory of the current process so far, in MiB (Linux VmHWM). */
  peakMemoryMiB(): number;
  /** Its resident memory now, in MiB (Linux VmRSS; 0 when it is gone). */
  memoryMiB(): number;
  stop(): Promise<void>;
}

export interface ProcessOptions {
  name: string;
  /** The main file, relative to the repository, e.g. "services/assignment/src/main.ts". */
  entry: string;
  env: Record<string, string>;
  /** Ready when this gRPC address answers SERVING, this URL answers 200 (`http`), or this
   * URL answers at all (`answers`: an API that wants credentials answers 401). */
  ready: { grpc: string } | { http: string } | { answers: string };
  readyTimeoutMs?: number;
  /** Run `entry` (compiled JavaScript, e.g. "gateway/dist/main.js") with plain node, as a
   * container does: no TypeScript loader, the workspaces resolved to their dist/. */
  compiled?: boolean;
}

/** The part an entry runs: "identity" for services/identity/src/main.ts. */
function partOf(entry: string): string {
  return /^services\/([a-z]+)\//.exec(entry)?.[1] ?? 'gateway';
}

export async function startProcess(options: ProcessOptions): Promise<TestProcess> {
  let child: ChildProcess;
  let peakKiB = 0;
  const logLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
  const launch = async () => {
    // TEST_NODE_ARGS: more node options for the processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a benchmark.
    const nodeArgs = (process.env.TEST_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const loader = options.compiled ? ['--conditions=assistants-dist'] : ['--import', 'tsx'];
    child = spawn(process.execPath, [...nodeArgs, ...loader, join(ROOT, options.entry)], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...(options.compiled && { NODE_OPTIONS: '' }),
        LOG_LEVEL: logLevel,
        LOG_FORMAT: 'json',
        // No metrics server unless the test asks: replicas of a service share the machine.
        [`${partOf(options.entry).toUpperCase()}_METRICS_PORT`]: '0',
        ...options.env,
      },
      stdio: ['ignore', logLevel === 'silent' ? 'ignore' : 'inherit', 'inherit'],
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`${options.name} exited (${signal ?? code}) before it was ready`))),
    );
    exited.catch(() => {});
    try {
      await Promise.race([waitReady(options), exited]);
    } catch (err) {
      // Not ready in time: leave no process behind.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw err;
    }
  };
  /** A line of /proc/<pid>/status in KiB (0 when the process is gone, or not on Linux). */
  const statusKiB = (field: 'VmHWM' | 'VmRSS') => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const sample = () => {
    peakKiB = Math.max(peakKiB, statusKiB('VmHWM'));
  };
  const sampler = setInterval(sample, 500).unref();
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    sample();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    // A frozen process (SIGSTOP) acts on SIGTERM only once it runs again.
    child.kill('SIGCONT');
    await exited;
  };
  await launch();
  return {
    name: options.name,
    get pid() {
      return child.pid!;
    },
    kill,
    signal: (signal) => child.kill(signal),
    restart: launch,
    peakMemoryMiB: () => {
      sample();
      return Math.round(peakKiB / 1024);
    },
    memoryMiB: () => Math.round(statusKiB('VmRSS') / 1024),
    async stop() {
      await kill('SIGTERM');
      clearInterval(sampler);
    },
  };
}

async function waitReady(options: ProcessOptions): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const ready =
      'grpc' in options.ready
        ? await checkGrpcHealth(options.ready.grpc, { security: TEST_SECURITY, timeoutMs: 1000 })
        : await fetch('http' in options.ready ? options.ready.http : options.ready.answers).then(
            (r) => r.ok || 'answers' in options.ready,
            () => false,
          );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`${options.name} was not ready after ${options.readyTimeoutMs ?? 30_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
