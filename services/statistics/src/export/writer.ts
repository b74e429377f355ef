import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { stringify, type Options } from 'csv-stringify/sync';
import type { Queryable } from '@assistants/kit';
import { exportQuery, headersOf, type ExportPlan } from './query';

/** Rows fetched from the cursor at a time, worker threads formatting pages (csv-stringify is
 * the export's biggest CPU cost), pages being formatted at most, and the size of a stored
 * chunk of the file. */
export const PAGE_ROWS = 10_000;
const FORMATTERS = 2;
const PAGES_IN_FLIGHT = 3;
export const CHUNK_BYTES = 1 << 20;

/** Where the file goes, a chunk at a time (in order, from 0), with the rows written so far. */
export type ChunkSink = (index: number, data: Buffer, rowsSoFar: number) => Promise<void>;

/** A query whose rows come as arrays (the columns' order), which the kit's Queryable does not
 * type. */
type ArrayQueryable = { query(config: { text: string; rowMode: 'array' }): Promise<{ rows: string[][] }> };

/** csv-stringify in a worker thread: pages formatted in the order given. */
class CsvFormatter {
  private readonly worker: Worker;
  private readonly waiting: { resolve(data: Buffer): void; reject(err: Error): void }[] = [];

  constructor(options: Options) {
    // A page at a time needs little: a small heap keeps the export's memory small.
    this.worker = new Worker(join(__dirname, 'csv-worker.js'), {
      workerData: options,
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    });
    this.worker.on('message', (bytes: ArrayBuffer) => this.waiting.shift()?.resolve(Buffer.from(bytes)));
    const fail = (err: Error) => this.waiting.splice(0).forEach((w) => w.reject(err));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the CSV worker stopped (${code})`)));
  }

  format(rows: string[][]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(rows);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Writes the export of `plan` within `scope` into `sink`: one query, read through a
 * server-side cursor (DECLARE ... FETCH, a page at a time) in the transaction `tx` (begun by
 * the caller), each page turned into CSV by csv-stringify (in worker threads, while the next
 * pages are fetched) and cut into chunks. Only a few pages and a chunk are ever in memory,
 * whatever the number of rows. Every cell is text; one a spreadsheet would run as a formula
 * (=, +, -, @, tab, carriage return) gets an apostrophe first (csv-stringify's
 * escape_formulas, the kit's defuseCell rule). CRLF line ends; the UTF-8 BOM first when asked.
 */
export async function writeExport(
  tx: Queryable,
  plan: ExportPlan,
  scope: string[] | null,
  sink: ChunkSink,
): Promise<{ rows: number; bytes: number; chunks: number }> {
  const options: Options = { delimiter: plan.separator, record_delimiter: 'windows', escape_formulas: true };
  const { text, values } = exportQuery(plan, scope);
  // PostgreSQL plans a cursor for its first rows: it walks the users, their assignments and
  // progress by their keys (merge joins), so rows stream out while the rest is read.
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
  const write = async (data: Buffer, pageRows: number) => {
    rows += pageRows;
    pending.push(data);
    pendingBytes += data.length;
    bytes += data.length;
    if (pendingBytes >= CHUNK_BYTES) await flush();
  };

  await write(Buffer.from((plan.bom ? '\uFEFF' : '') + stringify([headersOf(plan)], options), 'utf8'), 0);
  const formatters = Array.from({ length: FORMATTERS }, () => new CsvFormatter(options));
  try {
    const inFlight: { rows: number; csv: Promise<Buffer> }[] = [];
    let pages = 0;
    for (let done = false; !done;) {
      const page = await (tx as unknown as ArrayQueryable).query({ text: `FETCH ${PAGE_ROWS} FROM x1_export`, rowMode: 'array' });
      done = page.rows.length < PAGE_ROWS;
      // Pages go to the formatters in turn; their CSV is written in page order.
      const formatter = formatters[pages++ % FORMATTERS];
      if (page.rows.length > 0) inFlight.push({ rows: page.rows.length, csv: formatter.format(page.rows) });
      while (inFlight.length > (done ? 0 : PAGES_IN_FLIGHT - 1)) {
        const next = inFlight.shift()!;
        await write(await next.csv, next.rows);
      }
    }
  } finally {
    await Promise.all(formatters.map((f) => f.close()));
  }
  await tx.query('CLOSE x1_export');
  await flush();
  return { rows, bytes, chunks };
}
