import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/*
 * Bulk password work (an import's hashes and checks) on one worker thread per core, each
 * holding the task it runs and the next one: a thread that ends a hash starts the next at
 * once. On libuv's pool, each next hash waited for the main thread (busy deciding rows, or
 * itself waiting for a core) to hand it over: the cores were idle 9 % of bench case c; one
 * task more than cores on the pool kept them busy but three hashes shared two cores, and a
 * hash cost 13 % more (BENCHMARKS.md). The rest waits here, in order; logins' checks stay on
 * libuv's pool (passwords.ts), never behind a chunk. Threads are started at the first task
 * and stopped after a few idle seconds (an import's chunks come one after another).
 */

const THREADS = availableParallelism();
/** Tasks a thread holds: the one it runs and the next. */
const DEPTH = 2;
const IDLE_MS = 10_000;

type Task = { message: { id: number; password: string; hash?: string }; resolve(value: unknown): void; reject(error: Error): void };
type Thread = { worker: Worker; tasks: Map<number, Task> };

export class HashWorkers {
  private readonly threads: Thread[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly options: object) {}

  hash(password: string): Promise<string> {
    return this.run({ password }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.run({ password, hash }) as Promise<boolean>;
  }

  /** Stops the threads now (their tasks fail). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  private run(message: { password: string; hash?: string }): Promise<unknown> {
    clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      this.queue.push({ message: { id: this.nextId++, ...message }, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.threads.length < THREADS && this.queue.length > this.threads.length * DEPTH) this.threads.push(this.start());
    for (const thread of this.threads) {
      while (thread.tasks.size < DEPTH && this.queue.length > 0) {
        const task = this.queue.shift()!;
        thread.tasks.set(task.message.id, task);
        thread.worker.ref();
        thread.worker.postMessage(task.message);
      }
    }
    if (this.queue.length === 0 && this.threads.every((t) => t.tasks.size === 0)) {
      clearTimeout(this.idle);
      this.idle = setTimeout(() => void this.close(), IDLE_MS).unref();
    }
  }

  private start(): Thread {
    const worker = new Worker(join(__dirname, 'hash-worker.js'), {
      workerData: this.options,
      // The hash's memory is argon2's own, outside the heap: the thread's heap holds messages.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    const thread: Thread = { worker, tasks: new Map() };
    worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const task = thread.tasks.get(id);
      thread.tasks.delete(id);
      if (thread.tasks.size === 0) worker.unref();
      if (error !== undefined) task?.reject(new Error(error));
      else task?.resolve(value);
      this.dispatch();
    });
    // A thread that stops takes its tasks with it; the next ones go to a new thread.
    const stopped = (error: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      for (const task of thread.tasks.values()) task.reject(error);
      thread.tasks.clear();
      if (this.queue.length > 0) this.dispatch();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`a password thread stopped (${code})`)));
    // A thread keeps the process running only while it has tasks (unref'd after the
    // listeners: adding one refs it).
    worker.unref();
    return thread;
  }
}
