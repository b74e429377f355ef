import type { Queryable } from '@assistants/kit';

/** Which rows of a file give a key an earlier row gave (the earlier one wins). Keys are
 * compared whatever their case. */
export interface KeyRegistry {
  /** The rows of the next chunk, in file order: for each row whose key an earlier row gave,
   * that row's line (by the row's line). */
  earlier(rows: { line: number; key: string[] }[]): Promise<Map<number, number>>;
}

// (\u0001 is in no key: a cell with a control character is refused; PostgreSQL text takes no \u0000)
const folded = (key: string[]) => key.join('\u0001').toLowerCase();

/** The keys of a file in memory: enough for the files that fit in memory anyway (previews,
 * tests), and the first `limit` keys of a job's file (KeysSpilled). */
export class KeysInMemory implements KeyRegistry {
  private readonly lines = new Map<string, number>();

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  async earlier(rows: { line: number; key: string[] }[]): Promise<Map<number, number>> {
    return this.take(rows).earlier;
  }

  /** The rows' earlier lines known here; the rows whose key is new and did not fit. */
  take(rows: { line: number; key: string[] }[]): { earlier: Map<number, number>; overflow: { line: number; key: string }[] } {
    const earlier = new Map<number, number>();
    const overflow: { line: number; key: string }[] = [];
    const inOverflow = new Map<string, number>();
    for (const row of rows) {
      const key = folded(row.key);
      const first = this.lines.get(key) ?? inOverflow.get(key);
      if (first !== undefined && first !== row.line) earlier.set(row.line, first);
      else if (first === undefined && this.lines.size < this.limit) this.lines.set(key, row.line);
      else if (first === undefined) {
        inOverflow.set(key, row.line);
        overflow.push({ line: row.line, key });
      }
    }
    return { earlier, overflow };
  }
}

/** A job's keys: the first `inMemory` in memory, the others in the job's keys table (a file
 * of millions of rows keeps the import's memory flat). A chunk read again after a kill finds
 * its own rows there, at their own lines: not repeats. */
export class KeysSpilled implements KeyRegistry {
  private readonly memory: KeysInMemory;

  constructor(
    private readonly db: Queryable,
    private readonly jobId: string,
    inMemory: number,
  ) {
    this.memory = new KeysInMemory(inMemory);
  }

  async earlier(rows: { line: number; key: string[] }[]): Promise<Map<number, number>> {
    const { earlier, overflow } = this.memory.take(rows);
    if (overflow.length === 0) return earlier;
    // The keys are added; the statement's own reads see the table as it was before: the
    // keys earlier chunks gave (or this chunk, read before a kill).
    const { rows: taken } = await this.db.query<{ key: string; line: number }>(
      `WITH added AS (
         INSERT INTO job_keys (job_id, key, line) SELECT $1, * FROM unnest($2::text[], $3::int[]) ON CONFLICT DO NOTHING)
       SELECT key, line FROM job_keys WHERE job_id = $1 AND key = ANY($2)`,
      [this.jobId, overflow.map((o) => o.key), overflow.map((o) => o.line)],
    );
    const first = new Map(taken.map((t) => [t.key, t.line]));
    for (const row of overflow) {
      const line = first.get(row.key);
      if (line !== undefined && line !== row.line) earlier.set(row.line, line);
    }
    return earlier;
  }
}
