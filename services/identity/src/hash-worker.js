// An import's password hashes and checks, in a worker thread of its own (hash-workers.ts):
// the next task already waits in this thread's queue when one ends, so the thread goes from
// one hash to the next without waiting for the main thread. Plain JavaScript: a worker thread
// loads it with node itself, under tsx, jest or a build alike.
const { parentPort, workerData } = require('node:worker_threads');
const { hashSync, verifySync } = require('@node-rs/argon2');

parentPort.on('message', ({ id, password, hash }) => {
  try {
    // A check of a stored hash that cannot be read is a wrong password, as verifyPassword says.
    const value = hash === undefined ? hashSync(password, workerData) : safeVerify(hash, password);
    parentPort.postMessage({ id, value });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});

function safeVerify(hash, password) {
  try {
    return verifySync(hash, password);
  } catch {
    return false;
  }
}
