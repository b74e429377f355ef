/**
 * bench:select, what the search costs a bulk write: users inserted, updated and deleted in
 * batches of 1,000, each batch one statement in its own transaction, as imports write them.
 * The rows are removed afterwards and the tables vacuumed, so that the database can be
 * reused.
 */
import pg from 'pg';

export const WRITE_ROWS = 100_000;
const BATCH = 1_000;
const COLUMNS = ['login', 'ext_id', 'last_name', 'first_name', 'email', 'organisation_id', 'custom1', 'custom2', 'custom3'];
const TYPES = ['text', 'text', 'text', 'text', 'text', 'uuid', 'text', 'text', 'text'];

export interface WriteRates {
  /** rows/s */
  insertUnnest: number;
  insertValues: number;
  update: number;
  /** an update of a field the search does not read (phone) */
  updateOther: number;
  delete: number;
}

/** The values of the COLUMNS of the bulk user `i` of a run. */
function row(run: string, i: number, names: { last: string[]; first: string[]; teams: string[] }): string[] {
  const last = names.last[(i * 7) % names.last.length];
  const first = names.first[(i * 13) % names.first.length];
  const plain = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[ ']/g, '')
      .toLowerCase();
  return [
    `${plain(first)}.${plain(last)}.${run}.${i}`,
    `${run}-${i}`.toUpperCase(),
    last,
    first,
    `${plain(first)}.${plain(last)}${i % 100}@${run}.example`,
    names.teams[i % names.teams.length],
    `promo ${2019 + (i % 7)}`,
    String(10 + (i % 90)),
    i % 2 ? 'Engineer' : 'Sales representative',
  ];
}

/** Inserts WRITE_ROWS users each way, updates a searched field of the first WRITE_ROWS and a
 * field the search does not read of the others, runs `whileThere` while
 * the rows are there, then deletes them all; returns the rates. */
export async function measureWrites(
  url: string,
  names: { last: string[]; first: string[] },
  log: (line: string) => void,
  whileThere: (run: string) => Promise<void>,
): Promise<WriteRates> {
  const db = new pg.Client({ connectionString: url, options: '-c search_path=identity,public' });
  await db.connect();
  const run = `bulk${Date.now().toString(36)}`;
  const ids: string[] = [];
  try {
    const teams = (await db.query<{ id: string }>(`SELECT id FROM organisations WHERE ext_id ~ '-T' ORDER BY ext_id`)).rows.map(
      (r) => r.id,
    );
    const rows = (from: number) => Array.from({ length: BATCH }, (_, k) => row(run, from + k, { ...names, teams }));
    const timed = async (what: string, count: number, batch: (from: number) => Promise<unknown>) => {
      const started = performance.now();
      for (let from = 0; from < count; from += BATCH) await batch(from);
      const rate = count / ((performance.now() - started) / 1000);
      log(
        `  ${what}: ${count.toLocaleString('en')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s, ${Math.round(rate).toLocaleString('en')} rows/s`,
      );
      return rate;
    };
    const returning = (result: pg.QueryResult<{ id: string }>) => ids.push(...result.rows.map((r) => r.id));

    const unnest = `INSERT INTO users (${COLUMNS.join(', ')})
      SELECT * FROM unnest(${TYPES.map((t, c) => `$${c + 1}::${t}[]`).join(', ')}) RETURNING id`;
    const insertUnnest = await timed('INSERT … SELECT unnest, 1,000 rows a statement', WRITE_ROWS, async (from) => {
      const batch = rows(from);
      returning(
        await db.query<{ id: string }>(
          unnest,
          COLUMNS.map((_, c) => batch.map((r) => r[c])),
        ),
      );
    });

    const values = `INSERT INTO users (${COLUMNS.join(', ')}) VALUES ${Array.from(
      { length: BATCH },
      (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`,
    ).join(', ')} RETURNING id`;
    const insertValues = await timed('multi-row INSERT … VALUES, 1,000 rows a statement', WRITE_ROWS, async (from) => {
      returning(await db.query<{ id: string }>(values, rows(WRITE_ROWS + from).flat()));
    });

    const update = await timed('UPDATE of custom1 and updated_at, 1,000 rows a statement', WRITE_ROWS, (from) =>
      db.query(
        `UPDATE users u SET custom1 = v.custom1, updated_at = now() FROM unnest($1::uuid[], $2::text[]) AS v(id, custom1) WHERE u.id = v.id`,
        [ids.slice(from, from + BATCH), ids.slice(from, from + BATCH).map((_, k) => `Imported ${run} ${from + k}`)],
      ),
    );

    const updateOther = await timed('UPDATE of phone and updated_at (not searched), 1,000 rows a statement', WRITE_ROWS, (from) =>
      db.query(
        `UPDATE users u SET phone = v.phone, updated_at = now() FROM unnest($1::uuid[], $2::text[]) AS v(id, phone) WHERE u.id = v.id`,
        [
          ids.slice(WRITE_ROWS + from, WRITE_ROWS + from + BATCH),
          ids.slice(WRITE_ROWS + from, WRITE_ROWS + from + BATCH).map((_, k) => `+33 1 ${String(from + k).padStart(8, '0')}`),
        ],
      ),
    );

    await whileThere(run);

    const deleted = await timed('DELETE, 1,000 rows a statement', ids.length, (from) =>
      db.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [ids.slice(from, from + BATCH)]),
    );
    ids.length = 0;
    return { insertUnnest, insertValues, update, updateOther, delete: deleted };
  } finally {
    // Whatever happened, the database is left as seeded (for BENCH_KEEP_DB).
    if (ids.length > 0) await db.query('DELETE FROM users WHERE id = ANY($1::uuid[])', [ids]).catch(() => {});
    await db.query(`DELETE FROM users WHERE login LIKE $1`, [`%.${run}.%`]).catch(() => {});
    const started = performance.now();
    const projection = (await db.query<{ found: boolean }>(`SELECT to_regclass('identity.user_search') IS NOT NULL AS found`)).rows[0]
      .found;
    await db.query(`VACUUM ANALYZE users, user_audiences${projection ? ', user_search' : ''}`);
    log(`  VACUUM ANALYZE afterwards: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await db.end();
  }
}
