import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';

/** argon2id with the OWASP minimum (19 MiB, 2 passes): about 11 ms a hash here. */
// algorithm 2 is Algorithm.Argon2id, a const enum that isolated modules cannot read.
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Hash checked when there is no user (or no password), so that a wrong login takes as
 * long as a wrong password. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}

/** Bulk work (an import's hashes and checks) keeps one task per core on libuv's thread pool
 * and one more: a pool thread that finishes a hash finds the next one there at once, instead
 * of waiting for this thread (busy deciding rows, or reading a result) to hand it over (bench
 * case c: the cores busy 94 % of the time with one a core, 97 % with the spare). The rest
 * waits here rather than in the pool's queue, where a login's check would wait behind a whole
 * chunk (threadpool.ts leaves the pool threads to spare). */
const BULK = availableParallelism() + 1;
let running = 0;
const waiting: (() => void)[] = [];

export async function inBulk<T>(task: () => Promise<T>): Promise<T> {
  if (running < BULK) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}
