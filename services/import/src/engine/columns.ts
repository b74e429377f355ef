/** The one declaration of an import kind's columns. The sample file, the preview, the
 * validation, the log messages and the documentation page are all made from it, so they
 * cannot disagree. */

export type ColumnType =
  /** free text, trimmed, at most `maxLength` characters */
  | 'text'
  /** one of `values` (compared case-insensitively, given back as declared) */
  | 'enum'
  /** `1`, `0` or empty */
  | 'flag'
  /** `YYYY/MM/DD`, given back as `YYYY-MM-DD` */
  | 'date'
  /** `YYYY/MM/DD HH:mm`, given back as `YYYY-MM-DDTHH:mm` */
  | 'datetime'
  /** a whole number */
  | 'integer'
  /** a non-negative amount with at most two decimals */
  | 'decimal'
  /** texts separated by `||` (each trimmed, empty ones dropped, each once) */
  | 'list';

export interface Column {
  /** the header of the column in the file (matched case-insensitively) */
  name: string;
  /** the field of the imported record it goes to */
  field: string;
  type: ColumnType;
  mandatory?: boolean;
  /** why it may be left out when it is mandatory (e.g. "unless generated"): then the kind's
   * own checks decide, and the column is not checked as mandatory by the engine */
  mandatoryUnless?: string;
  values?: readonly string[];
  maxLength?: number;
  /** one line for the documentation page and the preview */
  description: string;
  /** the value in the sample file */
  example: string;
  /** a password: its value is never shown (log, preview); the rejects file keeps the row as it was */
  secret?: boolean;
}

/** A cell's value as the log and the preview show it. */
export function shownValue(column: Column | undefined, value: string): string {
  return column?.secret && value !== '' ? '(hidden)' : value;
}

export interface KindOption {
  name: string;
  description: string;
  type: 'boolean' | 'enum' | 'text';
  values?: readonly string[];
  default: boolean | string;
}

export interface KindDeclaration {
  /** I1, I2… */
  id: string;
  /** the name in the routes: organisations, users… */
  kind: string;
  title: string;
  columns: readonly Column[];
  /** the field whose value may appear on one row only (duplicate rows are rejected), or the
   * fields whose values together may (a user and a course); none: a value may repeat (I7: a
   * user in several lists; I5, I6: one session after another of a learner's lesson or course) */
  key?: string | readonly string[];
  /** when an option chooses how rows are matched: the key field for these options */
  keyOf?(options: Record<string, boolean | string>): string;
  options: readonly KindOption[];
  /** the boolean option that says whether the file's first row is a header; when it is
   * false, every row is data and the columns are the declared ones, in order (none: the
   * first row is always the header) */
  headerOption?: string;
  /** rows per chunk for this kind instead of IMPORT_CHUNK_ROWS: for small rows that the
   * owning service applies by sets, where fewer, larger calls go faster */
  chunkRows?: number;
  /** how many chunks may be applied at once (default 1): more only when no row needs what
   * another row of the file changes (no parent further up the file), or when what it needs
   * is settled by the kind's last pass (I2's managers) */
  parallelChunks?: number;
}

/** Whether the first row of a file is its header row, for a job with these options. */
export function hasHeaderRow(kind: KindDeclaration, options: Record<string, unknown>): boolean {
  return !kind.headerOption || options[kind.headerOption] !== false;
}

/** A problem found in a row: an error rejects the row, a warning does not. */
export interface Issue {
  line: number;
  column: string;
  value: string;
  severity: 'error' | 'warning';
  message: string;
}

export type CellValue = string | boolean | number | string[] | null;

const DATE = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/;
const DATETIME = /^(\d{4})\/(\d{1,2})\/(\d{1,2}) (\d{1,2}):(\d{2})$/;

function calendarDate(y: string, m: string, d: string): string | null {
  const date = new Date(Date.UTC(+y, +m - 1, +d));
  if (date.getUTCFullYear() !== +y || date.getUTCMonth() !== +m - 1 || date.getUTCDate() !== +d) return null;
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

/** Reads one cell: its value for the record, or the message that says why it is wrong. An
 * empty cell is `null` (the kind decides what an empty optional cell means). */
export function readCell(column: Column, raw: string): { value: CellValue } | { error: string } {
  const text = raw.trim();
  if (text.includes('\uFFFD')) return { error: 'contains bytes that are not valid UTF-8 (the file mixes encodings)' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) return { error: 'contains control characters' };
  if (text === '') {
    if (column.mandatory && !column.mandatoryUnless) return { error: 'is mandatory and empty' };
    return { value: null };
  }
  switch (column.type) {
    case 'text': {
      const max = column.maxLength ?? 255;
      return text.length > max ? { error: `is longer than ${max} characters` } : { value: text };
    }
    case 'enum': {
      const found = column.values!.find((v) => v.toLowerCase() === text.toLowerCase());
      return found !== undefined ? { value: found } : { error: `must be one of ${column.values!.join(', ')}` };
    }
    case 'flag':
      return text === '1' || text === '0' ? { value: text === '1' } : { error: 'must be 1, 0 or empty' };
    case 'date': {
      const m = DATE.exec(text);
      const date = m && calendarDate(m[1], m[2], m[3]);
      return date ? { value: date } : { error: 'must be a date YYYY/MM/DD' };
    }
    case 'datetime': {
      const m = DATETIME.exec(text);
      const date = m && +m[4] < 24 && +m[5] < 60 && calendarDate(m[1], m[2], m[3]);
      return date ? { value: `${date}T${m![4].padStart(2, '0')}:${m![5]}` } : { error: 'must be a date and time YYYY/MM/DD HH:mm' };
    }
    case 'integer':
      return /^-?\d{1,15}$/.test(text) ? { value: Number(text) } : { error: 'must be a whole number' };
    case 'decimal': {
      const m = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(text);
      return m
        ? { value: `${m[1].replace(/^0+(?=\d)/, '')}.${(m[2] ?? '').padEnd(2, '0')}` }
        : { error: 'must be an amount such as 1250.50' };
    }
    case 'list': {
      const items = [
        ...new Set(
          text
            .split('||')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        ),
      ];
      const max = column.maxLength ?? 255;
      const long = items.find((s) => s.length > max);
      return long !== undefined ? { error: `has an item longer than ${max} characters` } : { value: items };
    }
  }
}

/** What the documentation and the preview say a column accepts. */
export function describeFormat(column: Column): string {
  switch (column.type) {
    case 'text':
      return `text, at most ${column.maxLength ?? 255} characters`;
    case 'enum':
      return `one of ${column.values!.join(', ')}`;
    case 'flag':
      return '1, 0 or empty';
    case 'date':
      return 'date YYYY/MM/DD';
    case 'datetime':
      return 'date and time YYYY/MM/DD HH:mm';
    case 'integer':
      return 'whole number';
    case 'decimal':
      return 'amount, two decimals at most';
    case 'list':
      return 'values separated by ||';
  }
}
