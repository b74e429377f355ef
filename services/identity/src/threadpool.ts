import { availableParallelism } from 'node:os';

// Imported first by main.ts, before anything uses libuv's thread pool (it reads this once,
// when its first task comes). Imports hash passwords there, one per core and one more
// (passwords.ts, inBulk); two threads more are left for the logins' checks and the rest.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 3));
