import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { HashWorkers } from './hash-workers';

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

/** An import's hashes and checks, on threads of their own (hash-workers.ts). */
const bulk = new HashWorkers(OPTIONS);

export function hashInBulk(password: string): Promise<string> {
  return bulk.hash(password);
}

/** verifyPassword, without the decoy: a user without a password is a wrong password at once. */
export function verifyInBulk(passwordHash: string | null, password: string): Promise<boolean> {
  return passwordHash === null ? Promise.resolve(false) : bulk.verify(passwordHash, password);
}
