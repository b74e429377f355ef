import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';

/** Reading an import file as a stream of records, never holding more than one record (and a
 * read-ahead of SNIFF_BYTES) in memory. */

export type Encoding = 'utf-8' | 'windows-1252';

export interface FileFormat {
  encoding: Encoding;
  /** the file started with a UTF-8 byte order mark (the rejects file gets one too) */
  bom: boolean;
  separator: ';' | ',';
}

/** One record of the file: its fields, and the record exactly as it was in the file (decoded,
 * without its line end) with the line it starts on. */
export interface RawRecord {
  line: number;
  raw: string;
  /** the line end that followed it ("" for a last line without one) */
  end: string;
  readonly fields: string[];
  /** fields.length, and fields[index], without splitting the record into all its fields */
  readonly fieldCount: number;
  field(index: number): string | undefined;
  /** why csv-parse could not read its fields (the row is rejected) */
  error?: string;
}

/** A record of the file. Most records have no quote: their fields are what lies between the
 * separators, split only when asked for (a row the owning service knows unchanged needs its
 * key and its text, not its forty cells). A record with a quote (or a lone CR, a line end to
 * csv-parse) is read by csv-parse at once. */
export function rawRecord(line: number, raw: string, end: string, separator: string): RawRecord {
  return raw.includes('"') || raw.includes('\r') ? new QuotedRecord(line, raw, end, separator) : new PlainRecord(line, raw, end, separator);
}

class PlainRecord implements RawRecord {
  private cells: string[] | undefined;

  constructor(
    readonly line: number,
    readonly raw: string,
    readonly end: string,
    private readonly separator: string,
  ) {}

  get fields(): string[] {
    return (this.cells ??= this.raw.split(this.separator));
  }

  get fieldCount(): number {
    if (this.cells) return this.cells.length;
    let count = 1;
    for (let i = this.raw.indexOf(this.separator); i >= 0; i = this.raw.indexOf(this.separator, i + 1)) count++;
    return count;
  }

  field(index: number): string | undefined {
    if (this.cells) return this.cells[index];
    let start = 0;
    for (let k = 0; k < index; k++) {
      const next = this.raw.indexOf(this.separator, start);
      if (next < 0) return undefined;
      start = next + 1;
    }
    const end = this.raw.indexOf(this.separator, start);
    return this.raw.slice(start, end < 0 ? undefined : end);
  }
}

class QuotedRecord implements RawRecord {
  readonly fields: string[];
  readonly error?: string;

  constructor(
    readonly line: number,
    readonly raw: string,
    readonly end: string,
    separator: string,
  ) {
    try {
      const rows = parse(raw, { delimiter: separator, relax_quotes: true, relax_column_count: true, bom: false }) as string[][];
      this.fields = rows[0] ?? [];
    } catch (error) {
      this.fields = [];
      this.error = `cannot be read as CSV: ${(error as Error).message}`;
    }
  }

  get fieldCount(): number {
    return this.fields.length;
  }

  field(index: number): string | undefined {
    return this.fields[index];
  }
}

/** A problem with the file as a whole: nothing after `line` is read. */
export class ImportFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** How much of the file decides the encoding and the separator. */
export const SNIFF_BYTES = 64 * 1024;

export interface ReadOptions {
  /** chosen by the administrator; detected when absent */
  encoding?: Encoding;
  /** longest record accepted, in characters */
  maxRecordChars: number;
  /** largest file accepted, in bytes */
  maxBytes: number;
  /** whether the first record is the header row (the default); false: every record is data,
   * the kind's columns in declared order; `detect` (the preview, before the job's options
   * are known): it is the header when one of its cells names a column */
  header?: boolean | 'detect';
}

/** Decides the format from the start of the file: a BOM says UTF-8; otherwise bytes that are not
 * valid UTF-8 say Windows-1252 (Excel's "CSV" on Western Windows); `,` when the header row has
 * no `;` but has `,`. A NUL byte says the file is not text. */
export function sniff(head: Buffer, chosen?: Encoding): FileFormat {
  if (head.length === 0) throw new ImportFileError(0, 'the file is empty');
  if (head.includes(0)) throw new ImportFileError(1, 'the file is not a text (CSV) file: it contains binary data');
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  let encoding: Encoding = chosen ?? 'utf-8';
  if (!chosen && !bom) {
    try {
      // stream: an incomplete character cut at the end of the read-ahead is not an error
      new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    } catch {
      encoding = 'windows-1252';
    }
  }
  const newline = head.indexOf(0x0a);
  const header = head.subarray(0, newline < 0 ? head.length : newline);
  const separator = !header.includes(0x3b) && header.includes(0x2c) ? ',' : ';';
  return { encoding, bom, separator };
}

/** Splits decoded text into records at the line ends that are outside quoted fields. A quote
 * opens a quoted field only at the start of a field (as csv-parse's relax_quotes reads it). */
class RecordSplitter {
  private buffer = '';
  private scanned = 0;
  private inQuotes = false;
  private fieldStart = true;
  private line = 1;

  constructor(
    private readonly separator: string,
    private readonly maxRecordChars: number,
  ) {}

  /** Adds text; returns the complete records (raw text without line end, its line end, its line). */
  push(text: string, last: boolean): { raw: string; end: string; line: number }[] {
    this.buffer += text;
    const out: { raw: string; end: string; line: number }[] = [];
    const b = this.buffer;
    let start = 0;
    let i = this.scanned;
    // The text is searched for its line ends and quotes (indexOf), not walked a character at
    // a time: most records have no quote, and only a quote's place needs a look around it.
    let quote = b.indexOf('"', i); // the first quote at or after i (-1: none)
    while (i < b.length) {
      if (quote >= 0 && quote < i) quote = b.indexOf('"', i);
      if (this.inQuotes) {
        if (quote < 0) {
          i = b.length;
          break;
        }
        if (quote + 1 >= b.length && !last) {
          i = quote; // a doubled quote may be cut: wait for more
          break;
        }
        if (b[quote + 1] === '"') i = quote + 2;
        else {
          this.inQuotes = false;
          i = quote + 1;
        }
        continue;
      }
      const newline = b.indexOf('\n', i);
      const stop = newline < 0 ? b.length : newline;
      if (quote >= 0 && quote < stop) {
        // A quote opens a quoted field only at the start of a field.
        if (quote > i) this.fieldStart = b[quote - 1] === this.separator;
        this.inQuotes = this.fieldStart;
        this.fieldStart = false;
        i = quote + 1;
        continue;
      }
      if (stop > i) this.fieldStart = b[stop - 1] === this.separator;
      if (newline < 0) {
        i = b.length;
        break;
      }
      const cr = newline > start && b[newline - 1] === '\r';
      const raw = b.slice(start, cr ? newline - 1 : newline);
      out.push({ raw, end: cr ? '\r\n' : '\n', line: this.line });
      this.line += countNewlines(raw) + 1;
      start = i = newline + 1;
      this.fieldStart = true;
    }
    this.scanned = i - start;
    this.buffer = b.slice(start);
    if (this.buffer.length > this.maxRecordChars) {
      throw new ImportFileError(this.line, `the record at line ${this.line} is longer than ${this.maxRecordChars} characters`);
    }
    if (last) {
      if (this.inQuotes) {
        throw new ImportFileError(this.line, `a quoted field opened in the record at line ${this.line} is never closed`);
      }
      if (this.buffer !== '') out.push({ raw: this.buffer, end: '', line: this.line });
      this.buffer = '';
    }
    return out;
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Bytes decoded and split at a time: the records of a piece go on together. A whole upload
 * part (1 MiB, some 5,000 rows) at a time kept three parts' rows alive at once in the readers,
 * each with its cells split (a heap snapshot of the import in case d: 15,000 rows). */
const PIECE_BYTES = 64 * 1024;

function* pieces(buffer: Buffer): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += PIECE_BYTES) yield buffer.subarray(at, at + PIECE_BYTES);
}

/** Reads the records of a file given as a stream of byte chunks, in batches: the records each
 * piece of a chunk (PIECE_BYTES) completes (a batch, not a record at a time: an async
 * generator's step costs a few promises, which a file of millions of rows would pay per row).
 * The first record is the header. Empty lines are skipped. Throws ImportFileError for what
 * makes the rest of the file unreadable (binary, too large, a record too long, a quote never
 * closed). */
export async function* readRecords(
  chunks: AsyncIterable<Buffer>,
  options: ReadOptions,
  onFormat?: (format: FileFormat) => void,
): AsyncGenerator<RawRecord[]> {
  let head: Buffer[] = [];
  let headBytes = 0;
  let total = 0;
  let format: FileFormat | undefined;
  let decoder: ReturnType<typeof iconv.getDecoder> | undefined;
  let splitter: RecordSplitter | undefined;

  const start = (buffer: Buffer) => {
    format = sniff(buffer, options.encoding);
    onFormat?.(format);
    decoder = iconv.getDecoder(format.encoding === 'utf-8' ? 'utf8' : 'win1252');
    splitter = new RecordSplitter(format.separator, options.maxRecordChars);
  };
  const records = (text: string, last: boolean): RawRecord[] =>
    splitter!
      .push(text, last)
      .filter((r) => r.raw.trim() !== '')
      .map((r) => rawRecord(r.line, r.raw, r.end, format!.separator));

  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > options.maxBytes) throw new ImportFileError(0, `the file is larger than the limit of ${options.maxBytes} bytes`);
    if (!format) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < SNIFF_BYTES) continue;
      const buffer = Buffer.concat(head);
      head = [];
      start(buffer);
      for (const piece of pieces(buffer)) yield records(decoder!.write(piece), false);
      continue;
    }
    if (chunk.includes(0)) throw new ImportFileError(0, 'the file is not a text (CSV) file: it contains binary data');
    for (const piece of pieces(chunk)) yield records(decoder!.write(piece), false);
  }
  if (!format) {
    const buffer = Buffer.concat(head);
    start(buffer);
    for (const piece of pieces(buffer)) yield records(decoder!.write(piece), false);
  }
  yield records(decoder!.end() ?? '', true);
}

/** Encodes text of a file (the rejects file) the way the file was. */
export function encodeLike(format: FileFormat, text: string): Buffer {
  return iconv.encode(text, format.encoding === 'utf-8' ? 'utf8' : 'win1252');
}

/** One CSV field as the rejects and log files write it. */
export function csvField(value: string, separator: string): string {
  return /["\r\n]/.test(value) || value.includes(separator) ? `"${value.replace(/"/g, '""')}"` : value;
}
