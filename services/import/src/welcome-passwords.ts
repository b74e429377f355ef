import { randomBytes } from 'node:crypto';
import { SecretBox, type Queryable } from '@assistants/kit';

/** A password for a new user the file gives none, sent only in the welcome mail: 24
 * characters from 62, about 143 bits. */
function generatedPassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(24), (b) => alphabet[b % 62]).join('');
}

/**
 * The passwords the importer makes for the welcome mails of one chunk. They are sealed
 * (IMPORT_SECRET_KEY, AES-256-GCM, bound to the job's row) and stored before identity hashes
 * them, so that a chunk replayed after a kill (identity answers from its record) sends the
 * mails with the passwords the users were given; they are wiped in the transaction that
 * records the chunk, once its mails are queued. Never logged; a dry run keeps them in memory.
 */
export class WelcomePasswords {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Queryable,
    secretKey: string,
  ) {
    this.box = new SecretBox(secretKey);
  }

  /** The passwords of these rows (by line) of a chunk: those sealed for it before, new ones
   * for the others. Two replicas on the same chunk (one past its lease) get the same. */
  async of(call: { jobId: string; no: number; dryRun: boolean }, lines: number[]): Promise<Map<string, string>> {
    const fresh = lines.map((line) => ({ line, password: generatedPassword() }));
    if (call.dryRun || lines.length === 0) return new Map(fresh.map((f) => [String(f.line), f.password]));
    const bound = (line: number) => `import:${call.jobId}:${line}`;
    await this.db.query(
      `INSERT INTO welcome_passwords (job_id, chunk, line, sealed)
       SELECT $1, $2, w.line, decode(w.sealed, 'hex') FROM unnest($3::int[], $4::text[]) AS w(line, sealed)
       ON CONFLICT DO NOTHING`,
      [call.jobId, call.no, lines, fresh.map((f) => this.box.seal(f.password, bound(f.line)).toString('hex'))],
    );
    const { rows } = await this.db.query<{ line: number; sealed: Buffer | Uint8Array }>(
      'SELECT line, sealed FROM welcome_passwords WHERE job_id = $1 AND chunk = $2 AND line = ANY($3::int[])',
      [call.jobId, call.no, lines],
    );
    return new Map(rows.map((r) => [String(r.line), this.box.open(Buffer.from(r.sealed), bound(r.line))]));
  }
}

/** Forgets the chunks' passwords: in the transaction that records the chunks. */
export async function wipeWelcomePasswords(tx: Queryable, jobId: string, chunks: number[]): Promise<void> {
  await tx.query('DELETE FROM welcome_passwords WHERE job_id = $1 AND chunk = ANY($2::int[])', [jobId, chunks]);
}
