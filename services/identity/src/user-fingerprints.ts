import { createHash } from 'node:crypto';
import { prepared, type Queryable } from '@assistants/kit';
import type { FindUnchangedUsersRequest } from '@assistants/proto/gen/identity/v1/imports';
import type { Caller } from './caller';

/**
 * I2 re-imports without deciding every row again (migration 005). A row of a users file
 * applied without error or warning is kept as its fingerprint (what the importer sends: the
 * row without its password, with the file's header and options) bound to the caller and its
 * grants, in the epoch of what rows are resolved against. Any change to the user forgets it
 * (triggers). The decision of a row depends on nothing else, so the same row by the same
 * caller, for a user its fingerprint is still kept for, in the same epoch, is UNCHANGED.
 */

/** The fingerprints as kept: the importer's, bound to the caller and its grants (another
 * administrator, or the same one after a grant changed, decides its rows again). */
export function keptFingerprints(caller: Caller): (fingerprint: Uint8Array) => Buffer {
  const grants = caller.grants.map((g) => `${g.path}\u0000${[...g.permissions].sort().join(',')}`).sort();
  const prefix = createHash('sha256')
    .update(`${caller.userId}\u0001${grants.join('\u0001')}`)
    .digest();
  return (fingerprint) => createHash('sha256').update(prefix).update(fingerprint).digest();
}

/** A user's generation (0 before its first fingerprint), of the user `u`. A subquery by the
 * primary key for each user: as a join, the planner read every fingerprint (a sequential
 * scan of the table) to find a chunk's thousand. */
const GENERATION = 'coalesce((SELECT f.generation FROM user_import_fingerprints f WHERE f.user_id = u.id), 0)';

/** The users whose login or external id (`keyColumn`), lower-cased, is one of $1: `columns`
 * of the user `u`, and its generation as `import_generation`. */
export function usersByKey(columns: string, keyColumn: 'login' | 'ext_id'): string {
  return `SELECT ${columns}, ${GENERATION} AS import_generation FROM users u WHERE lower(u.${keyColumn}) = ANY($1)`;
}

/** The generation of these users now. */
export async function generationsOf(q: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<{ id: string; generation: string }>(
    `SELECT u.id, ${GENERATION} AS generation FROM users u WHERE u.id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.generation]));
}

/** Keeps the fingerprints of rows just applied cleanly, each only while its user's generation
 * is the one given (what the chunk decided on); without one, whatever the generation is now
 * (a user the chunk wrote and holds locked: nobody else changed it since it was read; reading
 * its generation again after the writes only to give it back cost a statement a chunk). */
export async function keepFingerprints(
  q: Queryable,
  jobId: string,
  epoch: string,
  kept: { userId: string; fingerprint: Buffer; generation?: string }[],
): Promise<void> {
  // The users held locked first (no condition), then the others (at their generation). A
  // locked user the writes did not forget yet has no row: it is at generation 0.
  for (const locked of [true, false]) {
    const some = kept.filter((k) => (k.generation === undefined) === locked);
    if (some.length === 0) continue;
    await q.query(
      `INSERT INTO user_import_fingerprints AS f (user_id, generation, fingerprint, epoch, job_id)
       SELECT u, coalesce(g, 0), fp, $4::bigint, $5 FROM unnest($1::uuid[], $2::bigint[], $3::bytea[]) AS v(u, g, fp)
       ON CONFLICT (user_id) DO UPDATE SET fingerprint = excluded.fingerprint, epoch = excluded.epoch, job_id = excluded.job_id
       ${locked ? '' : 'WHERE f.generation = excluded.generation'}`,
      [some.map((k) => k.userId), some.map((k) => k.generation ?? null), some.map((k) => k.fingerprint), epoch, jobId],
    );
  }
}

/** The kept fingerprints ($1: 32 bytes each, one after another) found: their indexes. */
const FIND_KEPT = `SELECT i FROM generate_series(0, length($1::bytea) / 32 - 1) AS i
  WHERE (SELECT true FROM user_import_fingerprints f
          WHERE f.fingerprint = substring($1::bytea FROM i * 32 + 1 FOR 32)
            AND f.epoch = (SELECT n FROM import_epoch) AND f.job_id IS DISTINCT FROM $2::text
          LIMIT 1)`;

/** FindUnchangedUsers: the rows whose fingerprint is kept for their user (nothing changed it
 * since), in the current epoch. A kept fingerprint covers the row's key (and the caller and
 * its grants): found, it is its user's (migration 006). */
export async function findUnchangedUsers(q: Queryable, caller: Caller, req: FindUnchangedUsersRequest): Promise<string[]> {
  caller.scope('users:write');
  const keptFingerprint = keptFingerprints(caller);
  const rows = req.rows
    .filter((r) => r.key !== '' && r.fingerprint.length > 0)
    .map((r) => ({ itemId: r.itemId, kept: keptFingerprint(r.fingerprint) }));
  if (rows.length === 0) return [];
  // The kept fingerprints (32 bytes each) one after another, sent as one binary value; one
  // index probe each (as `fingerprint = ANY($1)` the planner read the whole table for a
  // chunk's thousand: 15 ms instead of 4 at 100,000 users, and more with every user).
  const { rows: found } = await q.query<{ i: number }>(prepared(FIND_KEPT), [Buffer.concat(rows.map((r) => r.kept)), req.jobId]);
  return found.map((f) => rows[f.i]!.itemId);
}
