import { describeFormat, shownValue, type Issue, type KindDeclaration } from './columns';
import { csvField, encodeLike, type FileFormat } from './read';
import { readRow, type ParsedHeader, type ParsedRow } from './rows';

/** The files made from a kind's declaration and from an import's results. */

const BOM = '\uFEFF';

/** The sample file of a kind: every column in declared order and one example row, `;`, UTF-8
 * with a BOM and CRLF so that Excel opens it as is. */
export function sampleFile(kind: KindDeclaration): string {
  const line = (cells: string[]) => cells.map((c) => csvField(c, ';')).join(';');
  return `${BOM}${line(kind.columns.map((c) => c.name))}\r\n${line(kind.columns.map((c) => c.example))}\r\n`;
}

/** The documentation page of a kind (Markdown): its columns and options. */
export function documentationPage(kind: KindDeclaration): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = kind.columns.map(
    (c, i) =>
      `| ${i + 1} | \`${c.name}\` | ${c.mandatory ? (c.mandatoryUnless ? `yes, ${cell(c.mandatoryUnless)}` : 'yes') : 'no'} | ` +
      `${cell(describeFormat(c))} | ${cell(c.description)} | \`${cell(c.example)}\` |`,
  );
  const options = kind.options.map(
    (o) =>
      `| \`${o.name}\` | ${o.type === 'enum' ? o.values!.join(', ') : 'true / false'} | \`${String(o.default)}\` | ${cell(o.description)} |`,
  );
  return [
    `# ${kind.id} ${kind.title} import`,
    '',
    'A CSV file: `;` separator (`,` is accepted when the header row has no `;`), a header row naming the columns ' +
      '(any order, any subset that holds the mandatory ones), UTF-8 with or without a byte order mark or Windows-1252. ' +
      'Dates are `YYYY/MM/DD`, date-times `YYYY/MM/DD HH:mm`, lists are separated by `||`.' +
      (kind.headerOption
        ? ` With the option \`${kind.headerOption}\` false, the file has no header row: every row is data, its columns in the order below.`
        : ''),
    '',
    '| # | column | mandatory | format | meaning | example |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Options',
    '',
    '| option | values | default | meaning |',
    '|---|---|---|---|',
    ...options,
    '',
  ].join('\n');
}

export interface PreviewColumn {
  column: string;
  /** the field it goes to */
  field: string;
  value: string;
  /** the format it must have */
  format: string;
  error?: string;
}

/** How the first data row is read, column by column. */
export function previewRow(header: ParsedHeader, row: ParsedRow): { line: number; columns: PreviewColumn[]; rowError?: string } {
  const rowError = row.issues.find((i) => i.column === '')?.message;
  const columns = header.columns.map((c) => {
    const issue = row.issues.find((i) => i.column === c.name);
    return {
      column: c.name,
      field: c.field,
      value: shownValue(c, row.cells[c.field] ?? ''),
      format: describeFormat(c),
      ...(issue ? { error: issue.message } : {}),
    };
  });
  return { line: row.line, columns, ...(rowError ? { rowError } : {}) };
}

export { readRow };

/** The log file's header and lines: line, column, value, severity, message (`;`, UTF-8 BOM). */
export const LOG_HEADER = `${BOM}line;column;value;severity;message\r\n`;
export function logLine(issue: Issue): string {
  return [String(issue.line), issue.column, issue.value, issue.severity, issue.message].map((v) => csvField(v, ';')).join(';') + '\r\n';
}

/** The rejects file's first line: the file's own header row plus a `reason` column, in the
 * file's encoding (with its BOM when it had one); none when the file had no header row. */
export function rejectsHeader(format: FileFormat, headerRaw: string | null): Buffer {
  const header = headerRaw === null ? '' : `${headerRaw}${format.separator}reason\r\n`;
  return encodeLike(format, `${format.bom ? BOM : ''}${header}`);
}

/** One rejected row exactly as it was in the file, plus the reason, in the file's encoding. */
export function rejectsLine(format: FileFormat, raw: string, reason: string): Buffer {
  return encodeLike(format, `${raw}${format.separator}${csvField(reason, format.separator)}\r\n`);
}
