import { readCell, shownValue, type CellValue, type Column, type Issue, type KindDeclaration } from './columns';
import { KeysInMemory, type KeyRegistry } from './keys';
import { ImportFileError, readRecords, type FileFormat, type RawRecord, type ReadOptions } from './read';

/** A data row read against its kind's columns. */
export interface ParsedRow {
  line: number;
  /** the row exactly as in the file (decoded), without its line end */
  raw: string;
  end: string;
  /** the value of every column the file has, by field (null: an empty cell; undefined: a cell in error) */
  values: Record<string, CellValue>;
  /** the cell text of every column the file has, by field (for log messages) */
  cells: Record<string, string>;
  /** errors reject the row; warnings do not */
  issues: Issue[];
  /** what the owning service keeps to know the row again (UnchangedRows) */
  fingerprint?: Buffer;
}

export interface ParsedHeader {
  /** the file's columns in file order */
  columns: Column[];
  /** the header row as in the file; null when the file has none (its rows are all data) */
  raw: string | null;
  end: string;
  format: FileFormat;
}

/** Whether the first record of a file is its header row, as `header` says (`detect`: when
 * one of its cells names a column of the kind: a misspelt header is still read as one, and
 * its error shown). */
function isHeaderRow(kind: KindDeclaration, record: RawRecord, header: ReadOptions['header']): boolean {
  if (header !== 'detect') return header !== false;
  const names = new Set(kind.columns.map((c) => c.name.toLowerCase()));
  return record.fields.some((f) => names.has(f.trim().toLowerCase()));
}

/** Matches the header row to the kind's columns: every header is a known column, once; every
 * mandatory column is there. Anything else is a file error (a misspelt header would
 * otherwise drop a column silently). */
export function checkHeader(kind: KindDeclaration, record: RawRecord, format: FileFormat): ParsedHeader {
  if (record.error) throw new ImportFileError(record.line, `the header row ${record.error}`);
  const byName = new Map(kind.columns.map((c) => [c.name.toLowerCase(), c]));
  const columns: Column[] = [];
  const seen = new Set<Column>();
  record.fields.forEach((name, i) => {
    const column = byName.get(name.trim().toLowerCase());
    if (!column) {
      const where = `column ${i + 1}`;
      throw new ImportFileError(
        record.line,
        name.trim() === '' ? `the header of ${where} is empty` : `unknown column "${name.trim()}" (${where}) for ${kind.title} imports`,
      );
    }
    if (seen.has(column)) throw new ImportFileError(record.line, `column "${column.name}" appears twice in the header`);
    seen.add(column);
    columns.push(column);
  });
  const missing = kind.columns.filter((c) => c.mandatory && !c.mandatoryUnless && !seen.has(c)).map((c) => c.name);
  if (missing.length > 0) throw new ImportFileError(record.line, `mandatory column missing from the header: ${missing.join(', ')}`);
  return { columns, raw: record.raw, end: record.end, format };
}

/** A UTF-8 two-byte character read as Windows-1252 ("é" read as "Ã©"): a lead byte C2–DF then a
 * continuation byte 80–BF, as Windows-1252 shows them. No French, Spanish or English text has it. */
const UTF8_AS_1252 =
  /[\u00C2-\u00DF][\u00A0-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013\u2014\u2018-\u201E\u2020-\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]/;
const MIXED = 'contains UTF-8 text in a Windows-1252 file (the file mixes encodings)';

/** A blank row of each header (every field, undefined): a row's cells and values start as a
 * copy of it. An object given its forty properties one by one becomes a slow dictionary
 * (about four times the memory, 1.5 KB a row, and slower to read); a copy of an object that
 * has them all keeps the fast shape. */
const blanks = new WeakMap<ParsedHeader, object>();

function blankOf(header: ParsedHeader): object {
  let blank = blanks.get(header);
  if (!blank) blanks.set(header, (blank = Object.fromEntries(header.columns.map((c) => [c.field, undefined]))));
  return blank;
}

/** Reads one data row: every cell against its column. */
export function readRow(header: ParsedHeader, record: RawRecord): ParsedRow {
  const blank = blankOf(header);
  const row: ParsedRow = {
    line: record.line,
    raw: record.raw,
    end: record.end,
    values: { ...blank },
    cells: { ...blank },
    issues: [],
  };
  const error = (column: string, value: string, message: string) =>
    row.issues.push({ line: record.line, column, value, severity: 'error', message });
  if (record.error) {
    error('', '', `the row ${record.error}`);
    return row;
  }
  if (record.fields.length !== header.columns.length) {
    error('', '', `the row has ${record.fields.length} columns, the header ${header.columns.length}`);
    return row;
  }
  header.columns.forEach((column, i) => {
    const text = record.fields[i];
    row.cells[column.field] = text;
    const read = header.format.encoding === 'windows-1252' && UTF8_AS_1252.test(text) ? { error: MIXED } : readCell(column, text);
    if ('error' in read) error(column.name, shownValue(column, text), `${column.name} ${read.error}`);
    else row.values[column.field] = read.value;
  });
  return row;
}

export interface RowsHooks {
  onHeader?(header: ParsedHeader): void;
  /** the key field, when not the kind's default (an option chose it) */
  key?: string;
}

/** A data row as the file has it, before its cells are read (readRow). */
export interface FileRow {
  record: RawRecord;
  /** the row's key (its key cells, read), when it has one */
  key?: string[];
  /** the row's key was already on an earlier row */
  duplicate?: Issue;
}

/** The data rows of a file with their keys, in batches (readRecords' batches: a step of an
 * async generator per row would cost more than the row); the rows that repeat a key are found
 * by a KeyRegistry, a chunk at a time; the cells are read later, only for the rows that need
 * it. File errors are thrown as ImportFileError. */
export async function* readFileRows(
  kind: KindDeclaration,
  chunks: AsyncIterable<Buffer>,
  options: ReadOptions,
  hooks: RowsHooks = {},
): AsyncGenerator<FileRow[]> {
  let format: FileFormat | undefined;
  let header: ParsedHeader | undefined;
  const keyFields = keyFieldsOf(kind, hooks.key);
  let keyColumns: { index: number; column: Column }[] = [];
  let rows = 0;
  for await (const records of readRecords(chunks, options, (f) => (format = f))) {
    const batch: FileRow[] = [];
    for (const record of records) {
      if (!header) {
        if (isHeaderRow(kind, record, options.header)) {
          header = checkHeader(kind, record, format!);
          hooks.onHeader?.(header);
          continue;
        }
        header = { columns: [...kind.columns], raw: null, end: '', format: format! };
        hooks.onHeader?.(header);
      }
      if (keyColumns.length === 0 && keyFields.length > 0) {
        const columns = header.columns;
        keyColumns = keyFields.map((field) => ({
          index: columns.findIndex((c) => c.field === field),
          column: kind.columns.find((c) => c.field === field)!,
        }));
      }
      rows++;
      batch.push({ record, key: keyOf(record, keyColumns, header.columns.length) });
    }
    if (batch.length > 0) yield batch;
  }
  if (!header) throw new ImportFileError(0, 'the file is empty');
  if (rows === 0) throw new ImportFileError(header ? 1 : 0, 'the file has a header row but no data row');
}

function keyFieldsOf(kind: KindDeclaration, chosen: RowsHooks['key']): readonly string[] {
  const key = chosen ?? kind.key;
  return key === undefined ? [] : typeof key === 'string' ? [key] : key;
}

/** Marks the rows of a chunk whose key an earlier row gave (the earlier one wins). */
export async function markRepeatedKeys(
  kind: KindDeclaration,
  chosenKey: RowsHooks['key'],
  rows: FileRow[],
  keys: KeyRegistry,
): Promise<void> {
  const keyed = rows.filter((r): r is FileRow & { key: string[] } => r.key !== undefined);
  if (keyed.length === 0) return;
  const earlier = await keys.earlier(keyed.map((r) => ({ line: r.record.line, key: r.key })));
  if (earlier.size === 0) return;
  const names = keyFieldsOf(kind, chosenKey).map((field) => kind.columns.find((c) => c.field === field)!.name);
  for (const row of keyed) {
    const first = earlier.get(row.record.line);
    if (first === undefined) continue;
    const key = row.key;
    const last = key.length - 1;
    row.duplicate = {
      line: row.record.line,
      column: names[last],
      value: key[last],
      severity: 'error',
      message:
        key.length === 1
          ? `${names[0]} "${key[0]}" is already on line ${first} of the file`
          : `${names.join(', ')} ${key.map((v) => `"${v}"`).join(', ')} are already on line ${first} of the file`,
    };
  }
}

/** The key of a record as its cells read (undefined: it has none, or a key cell is empty or
 * wrong, which readRow says). */
function keyOf(record: RawRecord, keyColumns: { index: number; column: Column }[], width: number): string[] | undefined {
  if (keyColumns.length === 0 || record.error || record.fieldCount !== width) return undefined;
  const key: string[] = [];
  for (const { index, column } of keyColumns) {
    if (index < 0) return undefined;
    const read = readCell(column, record.field(index)!);
    if (!('value' in read) || typeof read.value !== 'string') return undefined;
    key.push(read.value);
  }
  return key;
}

/** A row of the file, read: its cells against their columns, and a repeated key. */
export function parseFileRow(header: ParsedHeader, row: FileRow): ParsedRow {
  const parsed = readRow(header, row.record);
  if (row.duplicate) parsed.issues.push(row.duplicate);
  return parsed;
}

/** The data rows of a file, read (readFileRows, the repeated keys in memory, then each
 * row's cells). */
export async function* readRows(
  kind: KindDeclaration,
  chunks: AsyncIterable<Buffer>,
  options: ReadOptions,
  hooks: RowsHooks = {},
): AsyncGenerator<ParsedRow> {
  let header: ParsedHeader | undefined;
  const keys = new KeysInMemory();
  for await (const batch of readFileRows(kind, chunks, options, {
    ...hooks,
    onHeader: (h) => {
      header = h;
      hooks.onHeader?.(h);
    },
  })) {
    for (const row of batch) {
      await markRepeatedKeys(kind, hooks.key, [row], keys);
      yield parseFileRow(header!, row);
    }
  }
}
