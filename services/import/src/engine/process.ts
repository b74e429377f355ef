import { setImmediate as turn } from 'node:timers/promises';
import type { Issue, KindDeclaration } from './columns';
import { logLine, rejectsHeader, rejectsLine } from './files';
import type { ReadOptions } from './read';
import { KeysInMemory, type KeyRegistry } from './keys';
import { markRepeatedKeys, parseFileRow, readFileRows, type FileRow, type ParsedHeader, type ParsedRow } from './rows';

/** What the owning service did with one valid row. `failed` rejects it (its issues say why). */
export interface RowOutcome {
  outcome: 'added' | 'updated' | 'unchanged' | 'failed';
  issues: Issue[];
  /** what the kind's last pass, after the last chunk, is left to do for this row (I2: its
   * managers not found yet) */
  deferred?: Record<string, string>;
  /** a value this row gives that the last pass of a dry run may look for (I2: its external id) */
  provides?: string;
}

export interface Counts {
  read: number;
  added: number;
  updated: number;
  unchanged: number;
  rejected: number;
  warnings: number;
}

export const zeroCounts = (): Counts => ({ read: 0, added: 0, updated: 0, unchanged: 0, rejected: 0, warnings: 0 });

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    read: a.read + b.read,
    added: a.added + b.added,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    rejected: a.rejected + b.rejected,
    warnings: a.warnings + b.warnings,
  };
}

/** What one chunk of rows gave: recorded with the chunk, in one transaction. */
export interface ChunkReport {
  no: number;
  counts: Counts;
  /** lines of the log file */
  log: string;
  /** lines of the rejects file (the file's encoding) */
  rejects: Buffer;
  /** RowOutcome.deferred of its rows, by line */
  deferred: { line: number; data: Record<string, string> }[];
  /** RowOutcome.provides of its rows */
  provided: string[];
}

export interface ProcessOptions {
  kind: KindDeclaration;
  chunks: AsyncIterable<Buffer>;
  read: ReadOptions;
  /** the key field, when an option chose it (KindDeclaration.keyOf) */
  key?: string;
  /** data rows per chunk */
  chunkSize: number;
  /** how many chunks may be applied at once (default 1: one after another) */
  parallel?: number;
  /** chunks already done (a resumed job): read again, for the duplicate keys, but not applied */
  doneChunks: number;
  /** applies the rows the file checks let through; one outcome per row, in order */
  apply(no: number, rows: ParsedRow[]): Promise<RowOutcome[]>;
  /** the rows the owning service knows to be unchanged, before their cells are read (I2) */
  unchanged?: UnchangedRows;
  /** where the keys of the rows read so far are (default: in memory) */
  keys?: KeyRegistry;
  onHeader?(header: ParsedHeader, rejectsHeader: Buffer): Promise<void> | void;
  /** records one or more chunks that follow each other, in file order, together */
  onChunks(reports: ChunkReport[]): Promise<void>;
}

/** A chunk under way: its report once it has one, and its recording. */
interface Started {
  report?: ChunkReport;
  /** recorded with the chunks before it */
  grouped?: boolean;
  next?: Started;
  recorded: Promise<void>;
}

/** How many chunks are read ahead of the first one under way (the unchanged rows are looked
 * for as they are read): 2 while the chunks have rows to apply (the chunks applied at once
 * count among them: chunks read further ahead only hold memory; 3 in all kept the import at
 * 178-186 MiB while 100,000 rows were applied, 7 took it over case d's 200 MB), 6 while the
 * last chunk reported had none (a file imported again reads on while a chunk is recorded, and
 * the chunks reported meanwhile are recorded together). */
const LOOKAHEAD = { applying: 2, unchanged: 6 };

/** Rows read between two turns of the event loop. */
const YIELD_ROWS = 100;

/** How a kind finds the rows of a chunk applied before exactly as they are: each row's
 * fingerprint (undefined: the row is not looked for), then the owning service says which are
 * unchanged. Those are counted unchanged without being read further nor applied; the others
 * go on with their fingerprint (ParsedRow.fingerprint), for the owning service to keep. */
export interface UnchangedRows {
  fingerprint(header: ParsedHeader, row: FileRow): Buffer | undefined;
  find(no: number, rows: { line: number; key: string; fingerprint: Buffer }[]): Promise<Set<number>>;
}

/** Reads a file row by row, in chunks of `chunkSize` data rows: the rows the file checks
 * reject go to the rejects, the others to `apply`, and each chunk's counts, log and rejects to
 * `onChunks`. Returns the number of chunks. Throws ImportFileError when the file cannot be
 * read further. */
export async function processFile(options: ProcessOptions): Promise<number> {
  let header: ParsedHeader | undefined;
  let headerWritten: Promise<void> | void = undefined;
  let rows: FileRow[] = [];
  let no = 0;
  // The next chunks are read while the earlier ones are applied and recorded: the owning
  // service and this process work at the same time. One chunk is applied at a time, in file
  // order (a chunk may need what the one before added: a parent, a manager), unless the kind
  // says its rows never need each other's (`parallel`); chunks are recorded in file order.
  // The unchanged rows of a chunk are looked for as soon as it is read, up to LOOKAHEAD chunks
  // ahead of the ones applied: that lookup only reads, and cannot depend on what an earlier
  // chunk writes (a key an earlier row gave is a repeat, never looked for).
  // A chunk whose rows are all unchanged waits for no other; the others' rows are read (each
  // cell checked and typed) only once their turn to be applied comes. Chunks are recorded in
  // file order: the ones reported by the time the chunk before them is recorded are recorded
  // together (one transaction, one commit, for several).
  const parallel = options.parallel ?? 1;
  let ahead = options.unchanged ? LOOKAHEAD.applying : 0;
  /** the chunks started and not yet recorded, in file order */
  const started: Started[] = [];
  const keys = options.keys ?? new KeysInMemory();
  const flush = async () => {
    const [chunkNo, chunk] = [no++, rows];
    rows = [];
    // In file order, before the chunk goes on (the earlier row wins, whatever is applied first).
    await markRepeatedKeys(options.kind, options.key, chunk, keys);
    while (started.length >= Math.max(parallel, 1 + ahead)) await started.shift()!.recorded;
    if (chunkNo < options.doneChunks) return;
    const looked = lookUp(chunkNo, chunk);
    looked.catch(() => {}); // its error is thrown where it is awaited
    // Applied once the chunk `parallel` places before it is recorded (none is applied after a
    // chunk that failed); recorded once the chunk before it is.
    const appliedAfter = started.at(-parallel)?.recorded ?? Promise.resolve();
    const before = started.at(-1);
    const reported = (async () => report(chunkNo, chunk, await looked, appliedAfter))();
    reported.catch(() => {});
    const entry: Started = { recorded: Promise.resolve() };
    if (before) before.next = entry;
    entry.recorded = (async () => {
      entry.report = await reported;
      await before?.recorded;
      if (entry.grouped) return; // recorded with a chunk before it
      const group: Started[] = [];
      for (let e: Started | undefined = entry; e?.report; e = e.next) group.push(e);
      for (const e of group) e.grouped = true;
      await options.onChunks(group.map((e) => e.report!));
    })();
    entry.recorded.catch(() => {});
    started.push(entry);
  };
  /** The rows of a chunk the owning service knows unchanged, and the fingerprint of each row
   * looked for. */
  const lookUp = async (chunkNo: number, fileRows: FileRow[]) => {
    const fingerprints = new Map<FileRow, Buffer>();
    let unchanged = new Set<number>();
    if (options.unchanged) {
      const looked: { line: number; key: string; fingerprint: Buffer }[] = [];
      for (const row of fileRows) {
        const fingerprint = row.key && !row.duplicate ? options.unchanged.fingerprint(header!, row) : undefined;
        if (!fingerprint) continue;
        fingerprints.set(row, fingerprint);
        looked.push({ line: row.record.line, key: row.key!.join('\u0000'), fingerprint });
      }
      if (looked.length > 0) unchanged = await options.unchanged.find(chunkNo, looked);
    }
    return { fingerprints, unchanged };
  };
  const report = async (
    chunkNo: number,
    fileRows: FileRow[],
    { fingerprints, unchanged }: Awaited<ReturnType<typeof lookUp>>,
    appliedAfter: Promise<void>,
  ): Promise<ChunkReport> => {
    const counts = zeroCounts();
    counts.read = unchanged.size;
    counts.unchanged = unchanged.size;
    const sent = fileRows.filter((row) => !unchanged.has(row.record.line));
    if (options.unchanged) ahead = sent.length > 0 ? LOOKAHEAD.applying : LOOKAHEAD.unchanged;
    // Its rows are read (every cell checked and typed) once its turn to be applied comes: a
    // chunk waiting for its turn holds only the rows' text.
    if (sent.length > 0) await appliedAfter;
    const chunk: ParsedRow[] = [];
    for (const row of sent) {
      const parsed = parseFileRow(header!, row);
      parsed.fingerprint = fingerprints.get(row);
      chunk.push(parsed);
    }
    const valid = chunk.filter((r) => !r.issues.some((i) => i.severity === 'error'));
    let outcomes: RowOutcome[] = [];
    if (valid.length > 0) outcomes = await options.apply(chunkNo, valid);
    const byRow = new Map(valid.map((r, i) => [r, outcomes[i]]));
    let log = '';
    const rejects: Buffer[] = [];
    const deferred: ChunkReport['deferred'] = [];
    const provided: string[] = [];
    for (const row of chunk) {
      counts.read++;
      const outcome = byRow.get(row);
      if (outcome?.deferred) deferred.push({ line: row.line, data: outcome.deferred });
      if (outcome?.provides) provided.push(outcome.provides);
      const issues = [...row.issues, ...(outcome?.issues ?? [])].sort((a, b) => a.line - b.line);
      for (const issue of issues) log += logLine(issue);
      counts.warnings += issues.filter((i) => i.severity === 'warning').length;
      if (!outcome || outcome.outcome === 'failed') {
        counts.rejected++;
        const reason = issues
          .filter((i) => i.severity === 'error')
          .map((i) => i.message)
          .join(' | ');
        rejects.push(rejectsLine(header!.format, row.raw, reason));
      } else counts[outcome.outcome]++;
    }
    return { no: chunkNo, counts, log, rejects: Buffer.concat(rejects), deferred, provided };
  };

  try {
    for await (const batch of readFileRows(options.kind, options.chunks, options.read, {
      key: options.key,
      onHeader: (h) => {
        header = h;
        headerWritten = options.onHeader?.(h, rejectsHeader(h.format, h.raw));
      },
    })) {
      await headerWritten;
      for (const row of batch) {
        rows.push(row);
        // Reading a part of the file already fetched never waits for I/O: without a turn of
        // the event loop now and then, the answers of the chunks under way (the owning
        // service's, the database's) would wait until the next chunk is read.
        if (rows.length % YIELD_ROWS === 0) await turn();
        if (rows.length >= options.chunkSize) await flush();
      }
    }
    if (rows.length > 0) await flush();
    // The last chunks' records: one that failed fails the file (the ones before it stay
    // recorded), as it would have stopped the reading had more rows followed.
    for (const e of started) await e.recorded;
  } finally {
    // A file error stops the reading: the chunks under way end first (recorded or not).
    await Promise.allSettled(started.map((e) => e.recorded));
  }
  return no;
}
