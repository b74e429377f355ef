/**
 * npm run import -- <kind> <file> [--dry-run] [--encoding utf-8|windows-1252] [--option name=value]…
 *
 * Imports a CSV file through the gateway, as an administrator who scripts imports: uploads it
 * (streamed from the disk), starts the job, shows its progress, and writes the result, the log
 * and the rejects next to the file (<file>.result.json, <file>.log.csv, <file>.rejects.csv).
 * ASSISTANTS_API (default http://127.0.0.1:3000), ASSISTANTS_LOGIN (default admin) and
 * ASSISTANTS_PASSWORD (default: .data/admin-password, as npm start writes it).
 * Exit code: 0 when every row went through, 1 when rows were rejected or the file failed,
 * 2 for a usage or connection error.
 */
import { openAsBlob, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      encoding: { type: 'string' },
      option: { type: 'string', multiple: true, default: [] },
    },
  });
  const [kind, file] = positionals;
  if (!kind || !file) {
    process.stderr.write('usage: npm run import -- <kind> <file> [--dry-run] [--encoding utf-8|windows-1252] [--option name=value]…\n');
    return 2;
  }
  const api = (process.env.ASSISTANTS_API ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  const login = process.env.ASSISTANTS_LOGIN ?? 'admin';
  const password = process.env.ASSISTANTS_PASSWORD ?? readFileSync('.data/admin-password', 'utf8').trim();
  const auth = `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
  const options = Object.fromEntries(
    (values.option as string[]).map((o) => {
      const at = o.indexOf('=');
      return at < 0 ? [o, 'true'] : [o.slice(0, at), o.slice(at + 1)];
    }),
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of the API, read field by field below
  const call = async (path: string, init: RequestInit = {}): Promise<any> => {
    const response = await fetch(`${api}${path}`, { ...init, headers: { authorization: auth, ...init.headers } });
    const body = response.headers.get('content-type')?.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };

  // A file-backed Blob: the upload streams from the disk.
  const form = new FormData();
  form.append('file', await openAsBlob(file), basename(file));
  const query = values.encoding ? `?encoding=${encodeURIComponent(values.encoding)}` : '';
  const upload = await call(`/v1/imports/kinds/${encodeURIComponent(kind)}/uploads${query}`, { method: 'POST', body: form });
  if (upload.fileError) {
    process.stderr.write(`file error at line ${upload.fileError.line}: ${upload.fileError.message}\n`);
    return 1;
  }
  process.stdout.write(
    `${file}: ${upload.size} bytes, ${upload.encoding}, "${upload.separator}"; first row (line ${upload.preview.line}):\n`,
  );
  for (const c of upload.preview.columns)
    process.stdout.write(`  ${c.column} → ${c.field}: ${JSON.stringify(c.value)}${c.error ? `  ✗ ${c.error}` : ''}\n`);
  let job = await call('/v1/imports', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uploadId: upload.uploadId, dryRun: values['dry-run'], options }),
  });
  const tty = process.stdout.isTTY;
  while (job.status === 'queued' || job.status === 'running') {
    await new Promise((r) => setTimeout(r, 500));
    job = await call(`/v1/imports/${job.id}`);
    const done = job.fileSize > 0 ? job.bytesRead / job.fileSize : 0;
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '-');
    const line = `[${bar}] ${Math.round(done * 100)}% ${job.counts.read} rows`;
    if (tty) process.stdout.write(`\r${line}`);
  }
  if (tty) process.stdout.write('\n');
  writeFileSync(`${file}.result.json`, JSON.stringify(job, null, 2) + '\n');
  writeFileSync(`${file}.log.csv`, await call(`/v1/imports/${job.id}/log.csv`));
  writeFileSync(`${file}.rejects.csv`, await call(`/v1/imports/${job.id}/rejects.csv`));
  const c = job.counts;
  process.stdout.write(
    `${job.dryRun ? 'dry run ' : ''}${job.status}: ${c.read} read, ${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged, ` +
      `${c.rejected} rejected, ${c.warnings} warnings\n` +
      (job.fileError ? `file error at line ${job.fileError.line}: ${job.fileError.message}\n` : '') +
      `written: ${file}.result.json, ${file}.log.csv, ${file}.rejects.csv\n`,
  );
  return job.status === 'completed' && c.rejected === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
