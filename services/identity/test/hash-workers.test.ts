import { verify } from '@node-rs/argon2';
import { HashWorkers } from '../src/hash-workers';

// Light settings: the threads are what is tested, not argon2id's cost.
const OPTIONS = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 };

let workers: HashWorkers;
beforeEach(() => (workers = new HashWorkers(OPTIONS)));
afterEach(() => workers.close());

it('hashes many passwords at once, each answer for its own password', async () => {
  const passwords = Array.from({ length: 40 }, (_, i) => `Password-${i}!`);
  const hashes = await Promise.all(passwords.map((p) => workers.hash(p)));
  expect(new Set(hashes).size).toBe(40);
  for (const [i, h] of hashes.entries()) {
    expect(h).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(await verify(h, passwords[i])).toBe(true);
    expect(await verify(h, passwords[(i + 1) % 40])).toBe(false);
  }
});

it('checks passwords against hashes; a hash it cannot read is a wrong password', async () => {
  const h = await workers.hash('Right-password-1');
  await expect(workers.verify(h, 'Right-password-1')).resolves.toBe(true);
  await expect(workers.verify(h, 'Wrong-password-1')).resolves.toBe(false);
  await expect(workers.verify('not a hash', 'Right-password-1')).resolves.toBe(false);
});

it('goes on with new threads after its threads were stopped', async () => {
  await workers.hash('Before-1');
  await workers.close();
  const h = await workers.hash('After-1');
  expect(await verify(h, 'After-1')).toBe(true);
});

it('a task whose thread stops fails with a clear error; the tasks after it get new threads', async () => {
  const inFlight = Array.from({ length: 6 }, (_, i) => workers.hash(`In-flight-${i}`));
  const settled = Promise.allSettled(inFlight);
  await workers.close();
  const outcomes = await settled;
  const failed = outcomes.filter((o) => o.status === 'rejected');
  expect(failed.length).toBeGreaterThan(0);
  for (const f of failed) expect(String((f as PromiseRejectedResult).reason)).toMatch(/password thread stopped/);
  const h = await workers.hash('After-2');
  expect(await verify(h, 'After-2')).toBe(true);
});
