import { parse } from 'csv-parse/sync';
import { seededRandom } from '@assistants/testing';
import iconv from 'iconv-lite';
import {
  documentationPage,
  ImportFileError,
  previewRow,
  processFile,
  rawRecord,
  readRecords,
  readRow,
  readRows,
  sampleFile,
  type ChunkReport,
  type Counts,
  type ParsedHeader,
} from '../src/engine';
import { organisationsKind } from '../src/kinds/organisations';
import { usersKind } from '../src/kinds/users';

const READ = { maxRecordChars: 1024 * 1024, maxBytes: 50 * 1024 * 1024 };

/** Runs a file through the engine with every valid row "added"; what the job would record. */
async function run(file: string | Buffer, options: { chunkSize?: number; pieces?: number; read?: Partial<typeof READ> } = {}) {
  const bytes = typeof file === 'string' ? Buffer.from(file) : file;
  const pieces = options.pieces ?? 7; // the stream arrives cut anywhere
  async function* chunks() {
    const size = Math.max(1, Math.ceil(bytes.length / pieces));
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const reports: ChunkReport[] = [];
  let rejectsHead: Buffer = Buffer.alloc(0);
  let fileError: ImportFileError | undefined;
  try {
    await processFile({
      kind: organisationsKind,
      chunks: chunks(),
      read: { ...READ, ...options.read },
      chunkSize: options.chunkSize ?? 2,
      doneChunks: 0,
      apply: async (_no, rows) => rows.map(() => ({ outcome: 'added' as const, issues: [] })),
      onHeader: (_h: ParsedHeader, head: Buffer) => void (rejectsHead = head),
      onChunks: async (rs) => void reports.push(...rs),
    });
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    fileError = error;
  }
  const counts = reports.reduce(
    (a, r) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + r.counts[k as keyof Counts]])) as unknown as Counts,
    { read: 0, added: 0, updated: 0, unchanged: 0, rejected: 0, warnings: 0 },
  );
  const log = reports.map((r) => r.log).join('');
  const rejects = Buffer.concat([rejectsHead, ...reports.map((r) => r.rejects)]);
  return { counts, log, rejects, fileError };
}

const HEADER = 'org_label;org_extid;parent_extid;org_disabled';

/** A file of `count` organisation rows, in one piece. */
const organisations = (count: number) =>
  (async function* () {
    yield Buffer.from([HEADER, ...Array.from({ length: count }, (_, i) => `Org ${i};O${i};;0`)].join('\n'));
  })();

describe('import engine', () => {
  test('reads ; files with a header, CRLF or LF, quoted separators, quotes and line breaks', async () => {
    const file = `${HEADER}\r\nLyon;FR-LYON;FR;0\r\n"Paris; ""HQ""\r\nsite";FR-PARIS;FR;1\nNice;FR-NICE;;\r\n`;
    const labels: string[] = [];
    const lines: number[] = [];
    for await (const row of readRows(
      organisationsKind,
      (async function* () {
        yield Buffer.from(file);
      })(),
      READ,
    )) {
      labels.push(row.values.label as string);
      lines.push(row.line);
      expect(row.issues).toEqual([]);
    }
    expect(labels).toEqual(['Lyon', 'Paris; "HQ"\r\nsite', 'Nice']);
    expect(lines).toEqual([2, 3, 5]);
    const { counts } = await run(file, { pieces: 41 });
    expect(counts).toEqual({ read: 3, added: 3, updated: 0, unchanged: 0, rejected: 0, warnings: 0 });
  });

  test('detects , from the header row', async () => {
    const { counts, log } = await run('org_label,org_extid\nLyon,FR-LYON\n"A, B",X\n');
    expect(log).toBe('');
    expect(counts.added).toBe(2);
  });

  test('UTF-8 with a BOM, and Windows-1252 detected or chosen; the rejects file keeps the encoding', async () => {
    const text = `${HEADER}\r\nSète;FR-SETE;;\r\nBéziers;FR-BEZ;;2\r\n`;
    const bom = await run(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(bom.counts).toMatchObject({ read: 2, added: 1, rejected: 1 });
    expect(bom.rejects.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(bom.rejects.toString('utf8').slice(1)).toBe(`${HEADER};reason\r\nBéziers;FR-BEZ;;2;org_disabled must be 1, 0 or empty\r\n`);

    const cp1252 = iconv.encode(text, 'win1252');
    const detected = await run(cp1252);
    expect(detected.counts).toMatchObject({ added: 1, rejected: 1 });
    expect(detected.rejects).toEqual(
      iconv.encode(`${HEADER};reason\r\nBéziers;FR-BEZ;;2;org_disabled must be 1, 0 or empty\r\n`, 'win1252'),
    );
    const rows = [];
    for await (const row of readRows(
      organisationsKind,
      (async function* () {
        yield cp1252;
      })(),
      { ...READ, encoding: 'windows-1252' },
    ))
      rows.push(row);
    expect(rows[0].values.label).toBe('Sète');
  });

  test('a mixed encoding (Windows-1252 bytes in a UTF-8 file) rejects the row naming the cell', async () => {
    // UTF-8 for longer than the read-ahead that decides the encoding, then one Windows-1252 row
    const rows = Array.from({ length: 6000 }, (_, i) => `Sète ${i};FR-${i};;\n`).join('');
    const good = Buffer.from(`${HEADER}\n${rows}`);
    const bad = Buffer.concat([Buffer.from('B'), Buffer.from([0xe9]), Buffer.from('ziers;FR-BEZ;;\n')]);
    const { counts, log, rejects } = await run(Buffer.concat([good, bad]), { chunkSize: 500 });
    expect(counts).toMatchObject({ added: 6000, rejected: 1 });
    expect(log).toBe('6002;org_label;B\uFFFDziers;error;org_label contains bytes that are not valid UTF-8 (the file mixes encodings)\r\n');
    expect(rejects.toString()).toContain('\r\nB\uFFFDziers;FR-BEZ;;;org_label contains bytes');
  });

  test('a mixed encoding (UTF-8 text in a Windows-1252 file) rejects the row naming the cell', async () => {
    const file = Buffer.concat([iconv.encode(`${HEADER}\nBéziers;FR-BEZ;;\n`, 'win1252'), Buffer.from('Sète;FR-SETE;;\n')]);
    const { counts, log } = await run(file);
    expect(counts).toMatchObject({ added: 1, rejected: 1 });
    expect(log).toBe('3;org_label;SÃ¨te;error;org_label contains UTF-8 text in a Windows-1252 file (the file mixes encodings)\r\n');
  });

  test('row errors name line, column and value; the row is rejected whole, the others go on', async () => {
    const file = [
      'org_label;org_extid;org_language;org_budget',
      'Lyon;FR-LYON;fr-FR;100',
      ';FR-EMPTY;;', // empty mandatory
      'Nice;FR-NICE;xx-XX;', // bad enum
      'Nantes;FR-NANTES;;12,345', // bad amount
      'Too;few',
      'Lyon bis;fr-lyon;;', // duplicate key, case-insensitive
      'Brest;FR-BREST;;1;extra',
    ].join('\n');
    const { counts, log, rejects } = await run(file);
    expect(counts).toEqual({ read: 7, added: 1, updated: 0, unchanged: 0, rejected: 6, warnings: 0 });
    expect(log.split('\r\n').filter(Boolean)).toEqual([
      '3;org_label;;error;org_label is mandatory and empty',
      '4;org_language;xx-XX;error;org_language must be one of en-EN, fr-FR, es-ES',
      '5;org_budget;12,345;error;org_budget must be an amount such as 1250.50',
      '6;;;error;the row has 2 columns, the header 4',
      '7;org_extid;fr-lyon;error;"org_extid ""fr-lyon"" is already on line 2 of the file"',
      '8;;;error;the row has 5 columns, the header 4',
    ]);
    const rejected = rejects.toString().split('\r\n');
    expect(rejected[0]).toBe('org_label;org_extid;org_language;org_budget;reason');
    expect(rejected[2]).toBe('Nice;FR-NICE;xx-XX;;org_language must be one of en-EN, fr-FR, es-ES');
    expect(rejected[4]).toBe('Too;few;the row has 2 columns, the header 4');
  });

  test('dates YYYY/MM/DD and YYYY/MM/DD HH:mm, || lists', () => {
    const header: ParsedHeader = {
      columns: usersKind.columns.filter((c) => ['user_login', 'birth_date', 'user_audiences'].includes(c.name)),
      raw: '',
      end: '\n',
      format: { encoding: 'utf-8', bom: false, separator: ';' },
    };
    const row = (fields: string[]) => readRow(header, rawRecord(2, fields.join(';'), '\n', ';'));
    expect(row(['a', '2024/02/29', ' A || B||A||']).values).toEqual({ login: 'a', birthDate: '2024-02-29', audiences: ['A', 'B'] });
    expect(row(['a', '2023/02/29', '']).issues).toEqual([
      { line: 2, column: 'birth_date', value: '2023/02/29', severity: 'error', message: 'birth_date must be a date YYYY/MM/DD' },
    ]);
    expect(row(['a', '2024-01-01', '']).issues[0].message).toBe('birth_date must be a date YYYY/MM/DD');
  });

  test('header errors are file errors: unknown, missing mandatory, twice', async () => {
    expect((await run('org_label;org_extid;org_colour\nA;B;C\n')).fileError?.message).toBe(
      'unknown column "org_colour" (column 3) for Organisations imports',
    );
    expect((await run('org_label;parent_extid\nA;B\n')).fileError?.message).toBe('mandatory column missing from the header: org_extid');
    expect((await run('org_label;org_extid;ORG_LABEL\nA;B;C\n')).fileError?.message).toBe('column "org_label" appears twice in the header');
  });

  test('empty, header-only, binary and too large files are file errors', async () => {
    expect((await run('')).fileError?.message).toBe('the file is empty');
    expect((await run('\r\n\r\n')).fileError?.message).toBe('the file is empty');
    expect((await run(`${HEADER}\r\n`)).fileError?.message).toBe('the file has a header row but no data row');
    const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]);
    expect((await run(binary)).fileError?.message).toBe('the file is not a text (CSV) file: it contains binary data');
    const big = await run(`${HEADER}\n${'A;B;;\n'.repeat(100)}`, { read: { maxBytes: 200 } });
    expect(big.fileError?.message).toBe('the file is larger than the limit of 200 bytes');
  });

  test('an unclosed quote and a 10 MB line stop the file at their line; the rows before are done', async () => {
    const unclosed = await run(`${HEADER}\nA;FR-A;;\nB;FR-B;;\n"C;FR-C;;\nD;FR-D;;\n`, { chunkSize: 1 });
    expect(unclosed.fileError).toMatchObject({ line: 4, message: 'a quoted field opened in the record at line 4 is never closed' });
    expect(unclosed.counts.added).toBe(2);
    const long = `${HEADER}\nA;FR-A;;\nB;${'x'.repeat(10 * 1024 * 1024)};;\nC;FR-C;;\n`;
    const huge = await run(long, { chunkSize: 1, pieces: 200 });
    expect(huge.fileError).toMatchObject({ line: 3, message: `the record at line 3 is longer than ${READ.maxRecordChars} characters` });
    expect(huge.counts.added).toBe(1);
  });

  test('the declaration drives the sample file, the documentation page and the preview', async () => {
    const sample = sampleFile(usersKind);
    const lines = sample.slice(1).split('\r\n');
    expect(lines[0].split(';')).toHaveLength(37);
    // the sample file imports cleanly
    const rows = [];
    for await (const row of readRows(
      usersKind,
      (async function* () {
        yield Buffer.from(sample);
      })(),
      READ,
    ))
      rows.push(row);
    expect(rows).toHaveLength(1);
    expect(rows[0].issues).toEqual([]);
    const page = documentationPage(organisationsKind);
    expect(page).toContain('| 1 | `org_label` | yes | text, at most 255 characters | name of the organisation | `Lyon` |');
    expect(page).toContain('| `updateHierarchy` | true / false | `false` |');

    let header: ParsedHeader | undefined;
    const it = readRows(
      organisationsKind,
      (async function* () {
        yield Buffer.from(`org_extid;org_label;org_disabled\nFR-LYON;Lyon;yes\n`);
      })(),
      READ,
      {
        onHeader: (h) => (header = h),
      },
    );
    const first = (await it.next()).value!;
    expect(previewRow(header!, first)).toEqual({
      line: 2,
      columns: [
        { column: 'org_extid', field: 'extId', value: 'FR-LYON', format: 'text, at most 100 characters' },
        { column: 'org_label', field: 'label', value: 'Lyon', format: 'text, at most 255 characters' },
        { column: 'org_disabled', field: 'disabled', value: 'yes', format: '1, 0 or empty', error: 'org_disabled must be 1, 0 or empty' },
      ],
    });
  });
});

test('a kind whose rows never need each other: two chunks applied at once, recorded in file order', async () => {
  let applying = 0;
  let most = 0;
  const recorded: number[] = [];
  await processFile({
    kind: organisationsKind,
    chunks: organisations(8),
    read: READ,
    chunkSize: 2,
    parallel: 2,
    doneChunks: 0,
    apply: async (no, chunk) => {
      most = Math.max(most, ++applying);
      // The first chunks take longest: a later one finishes first.
      await new Promise((r) => setTimeout(r, 40 - no * 10));
      applying--;
      return chunk.map(() => ({ outcome: 'added' as const, issues: [] }));
    },
    onChunks: async (rs) => void recorded.push(...rs.map((r) => r.no)),
  });
  expect(most).toBe(2);
  expect(recorded).toEqual([0, 1, 2, 3]);
});

test('the unchanged rows of the next chunks are looked for while a chunk is applied; chunks are applied and recorded one after another, none after one that failed', async () => {
  const events: string[] = [];
  const unchanged = {
    fingerprint: () => Buffer.from('f'),
    find: async (no: number, looked: { line: number }[]) => {
      events.push(`find ${no}`);
      // Line 2 (the first row) was imported before as it is.
      return new Set(looked.filter((l) => l.line === 2).map((l) => l.line));
    },
  };
  const apply = async (no: number, chunk: unknown[]) => {
    events.push(`apply ${no}`);
    await new Promise((r) => setTimeout(r, 30));
    events.push(`applied ${no}`);
    return chunk.map(() => ({ outcome: 'added' as const, issues: [] }));
  };
  const processWith = (onChunk: (r: ChunkReport) => Promise<void>) =>
    processFile({
      kind: organisationsKind,
      chunks: organisations(10),
      read: READ,
      chunkSize: 2,
      doneChunks: 0,
      unchanged,
      apply,
      onChunks: async (reports) => {
        for (const r of reports) await onChunk(r);
      },
    });
  const recorded: { no: number; counts: Counts }[] = [];
  await processWith(async (r) => {
    events.push(`recorded ${r.no}`);
    recorded.push({ no: r.no, counts: r.counts });
  });
  // Chunks 1 and 2 are looked for while chunk 0 is applied, never applied before it is recorded;
  // no further ahead while chunks apply rows (their rows would only wait in memory).
  expect(events.indexOf('find 2')).toBeLessThan(events.indexOf('applied 0'));
  expect(events.indexOf('find 3')).toBeGreaterThan(events.indexOf('recorded 0'));
  for (let no = 1; no < 5; no++) expect(events.indexOf(`recorded ${no - 1}`)).toBeLessThan(events.indexOf(`apply ${no}`));
  expect(recorded.map((r) => r.no)).toEqual([0, 1, 2, 3, 4]);
  expect(recorded[0]!.counts).toMatchObject({ read: 2, unchanged: 1, added: 1 });

  // Chunk 1 cannot be recorded: the file stops there; the chunks looked for ahead are not applied.
  events.length = 0;
  await expect(
    processWith(async (r) => {
      if (r.no === 1) throw new Error('the database went away');
      events.push(`recorded ${r.no}`);
    }),
  ).rejects.toThrow('the database went away');
  expect(events.filter((e) => e.startsWith('apply'))).toEqual(['apply 0', 'apply 1']);
  expect(events.filter((e) => e.startsWith('recorded'))).toEqual(['recorded 0']);

  // The last chunk cannot be recorded: the file fails (the error is not lost at the end).
  await expect(
    processWith(async (r) => {
      if (r.no === 4) throw new Error('the database went away at the end');
    }),
  ).rejects.toThrow('the database went away at the end');
});

test('chunks with nothing to apply (every row unchanged) wait for no other: the ones reported while a chunk is recorded are recorded together, in file order', async () => {
  const groups: number[][] = [];
  let applied = 0;
  await processFile({
    kind: organisationsKind,
    chunks: organisations(20),
    read: READ,
    chunkSize: 2,
    doneChunks: 0,
    unchanged: { fingerprint: () => Buffer.from('f'), find: async (_no, looked) => new Set(looked.map((l) => l.line)) },
    apply: async (_no, chunk) => ((applied += chunk.length), chunk.map(() => ({ outcome: 'added' as const, issues: [] }))),
    onChunks: async (reports) => {
      groups.push(reports.map((r) => r.no));
      await new Promise((r) => setTimeout(r, 20));
    },
  });
  expect(applied).toBe(0);
  expect(groups.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(groups.length).toBeLessThan(10);
  // Read on further than while chunks apply rows (two ahead): more than three in one record.
  expect(Math.max(...groups.map((g) => g.length))).toBeGreaterThan(3);
});

test('a record without quotes gives one field and the count of its fields without being split; a quoted one is read by csv-parse', () => {
  const plain = rawRecord(3, 'a;;c;', '\n', ';');
  expect([plain.fieldCount, plain.field(0), plain.field(1), plain.field(2), plain.field(3), plain.field(4)]).toEqual([
    4,
    'a',
    '',
    'c',
    '',
    undefined,
  ]);
  expect(plain.fields).toEqual(['a', '', 'c', '']);
  expect(rawRecord(3, 'only', '\n', ';').field(0)).toBe('only');
  const quoted = rawRecord(4, '"x;""y""";z', '\n', ';');
  expect([quoted.fieldCount, quoted.field(0), quoted.field(1), quoted.error]).toEqual([2, 'x;"y"', 'z', undefined]);
});

test('records split from a stream cut anywhere are the records csv-parse reads in the whole text (random records)', async () => {
  // The same files every run; random(n) is 0..n-1.
  const next = seededRandom(7);
  const random = (n: number) => Math.floor(next() * n);
  const pieces = ['a', 'é', ' ', ';', ';', '""', '"', '\r', '\n', '\r\n', 'xyz'];
  const field = () => {
    // unquoted: a quote inside is a character (relax_quotes)
    if (random(3) > 0) return `v${Array.from({ length: random(4) }, () => 'aé "'[random(4)]).join('')}`;
    // quoted: any of the pieces inside, doubled quotes as CSV writes them
    const inner = Array.from({ length: random(6) }, () => pieces[random(pieces.length)]).join('');
    return `"${inner.replace(/"/g, '""')}"`;
  };
  // One file: a first 64 KB of plain records (the reader splits nothing before it has decided
  // the format), then 300 random records, cut in pieces of 1, 2, 3, 7 and 64 bytes.
  const records = Array.from({ length: 300 }, () => Array.from({ length: 1 + random(4) }, field).join(';'));
  const head = 'p;q\n'.repeat(16_400);
  const text = head + records.map((r) => r + (random(2) ? '\r\n' : '\n')).join('');
  const bytes = Buffer.from(text);
  const expected = (
    parse(text, {
      delimiter: ';',
      record_delimiter: ['\r\n', '\n'],
      relax_quotes: true,
      relax_column_count: true,
      raw: true,
    }) as unknown as {
      record: string[];
      raw: string;
    }[]
  )
    // (a record of blanks only is skipped by the reader)
    .filter((r) => r.raw.trim() !== '')
    .map((r) => r.record);
  expect(expected.length).toBeGreaterThan(16_400 + 250);
  for (const cut of [1, 2, 3, 7, 64]) {
    const read: string[][] = [];
    for await (const records of readRecords(
      (async function* () {
        yield bytes.subarray(0, head.length);
        for (let i = head.length; i < bytes.length; i += cut) yield bytes.subarray(i, i + cut);
      })(),
      READ,
    )) {
      for (const record of records) read.push(record.error ? [`error: ${record.error}`] : record.fields);
    }
    expect({ cut, read: read.slice(16_400) }).toEqual({ cut, read: expected.slice(16_400) });
  }
});
