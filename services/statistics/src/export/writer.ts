import { stringify } from 'csv-stringify/sync';
import { defuseCell, type Queryable } from '@assistants/kit';
import { exportQuery, headersOf, type ExportPlan } from './query';

/** Rows fetched from the cursor at a time, and the size of a stored chunk of the file. */
export const PAGE_ROWS = 5_000;
export const CHUNK_BYTES = 1 << 20;

/** Where the file goes, a chunk at a time (in order, from 0), with the rows written so far. */
export type ChunkSink = (index: number, data: Buffer, rowsSoFar: number) => Promise<void>;

/** A query whose rows come as arrays (the columns' order), which the kit's Queryable does not
 * type. */
type ArrayQueryable = { query(config: { text: string; rowMode: 'array' }): Promise<{ rows: string[][] }> };

/**
 * Writes the export of `plan` within `scope` into `sink`: one query, read through a
 * server-side cursor (DECLARE ... FETCH, a page at a time) in the transaction `tx` (begun by
 * the caller), each page turned into CSV by csv-stringify and cut into chunks. Only a page and
 * a chunk are ever in memory, whatever the number of rows. Every cell is text; one a
 * spreadsheet would run as a formula is defused (kit csv.ts). CRLF line ends; the UTF-8 BOM
 * first when asked.
 */
export async function writeExport(
  tx: Queryable,
  plan: ExportPlan,
  scope: string[] | null,
  sink: ChunkSink,
): Promise<{ rows: number; bytes: number; chunks: number }> {
  const options = {
    delimiter: plan.separator,
    record_delimiter: 'windows' as const,
    cast: { string: (value: string) => defuseCell(value) },
  };
  const { text, values } = exportQuery(plan, scope);
  await tx.query(`DECLARE x1_export NO SCROLL CURSOR FOR ${text}`, values);

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let rows = 0;
  let bytes = 0;
  let chunks = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await sink(chunks++, data, rows);
  };
  const write = async (csv: string) => {
    const data = Buffer.from(csv, 'utf8');
    pending.push(data);
    pendingBytes += data.length;
    bytes += data.length;
    if (pendingBytes >= CHUNK_BYTES) await flush();
  };

  await write((plan.bom ? '\uFEFF' : '') + stringify([headersOf(plan)], options));
  for (;;) {
    const page = await (tx as unknown as ArrayQueryable).query({ text: `FETCH ${PAGE_ROWS} FROM x1_export`, rowMode: 'array' });
    if (page.rows.length === 0) break;
    rows += page.rows.length;
    await write(stringify(page.rows, options));
    if (page.rows.length < PAGE_ROWS) break;
  }
  await tx.query('CLOSE x1_export');
  await flush();
  return { rows, bytes, chunks };
}
