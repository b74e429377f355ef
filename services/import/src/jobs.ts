import { failedPrecondition, foreignKeyViolation, invalidArgument, isId, notFound, type Queryable } from '@assistants/kit';
import type { CompleteUploadResponse, ImportJob } from '@assistants/proto/gen/import/v1/imports';
import type { KindDeclaration } from './engine/columns';
import { LOG_HEADER, logLine, previewRow } from './engine/files';
import { ImportFileError, type Encoding, type ReadOptions } from './engine/read';
import { readRows, type ParsedHeader } from './engine/rows';
import { KINDS } from './kinds';
import { APPLIERS } from './kinds/appliers';
import { checkOptions, type KindOptions } from './options';

/** Uploads and jobs: every one belongs to the user who made it (another user's is "not
 * found"). */

export const PART_BYTES = 1024 * 1024;

function kindOf(name: string): KindDeclaration {
  const kind = KINDS[name];
  if (!kind || !APPLIERS[name]) {
    throw invalidArgument('kind', `unknown import kind "${name}"; kinds: ${Object.keys(APPLIERS).join(', ')}`);
  }
  return kind;
}

type UploadRow = { id: string; kind: string; file_name: string; created_by: string; size: string; parts: number; completed: boolean };

async function ownUpload(q: Queryable, actorId: string, id: string, lock = false): Promise<UploadRow> {
  const { rows } = isId(id)
    ? await q.query<UploadRow>(`SELECT * FROM uploads WHERE id = $1 AND created_by = $2${lock ? ' FOR UPDATE' : ''}`, [id, actorId])
    : { rows: [] };
  if (!rows[0]) throw notFound(`no upload ${id}`, 'uploadId');
  return rows[0];
}

export async function createUpload(q: Queryable, actorId: string, kindName: string, fileName: string): Promise<string> {
  kindOf(kindName);
  const { rows } = await q.query<{ id: string }>('INSERT INTO uploads (kind, file_name, created_by) VALUES ($1, $2, $3) RETURNING id', [
    kindName,
    fileName.slice(0, 255),
    actorId,
  ]);
  return rows[0].id;
}

/** Stores one part (a part sent again, a retried call, is ignored). */
export async function appendUpload(
  tx: Queryable,
  actorId: string,
  id: string,
  part: number,
  data: Buffer,
  maxBytes: number,
): Promise<number> {
  const upload = await ownUpload(tx, actorId, id, true);
  if (upload.completed) throw failedPrecondition('this upload is complete');
  if (data.length > PART_BYTES * 4) throw invalidArgument('data', `a part holds at most ${PART_BYTES * 4} bytes`);
  if (part !== upload.parts) {
    if (part < upload.parts) return Number(upload.size);
    throw invalidArgument('part', `part ${upload.parts} is expected next, got ${part}`);
  }
  const size = Number(upload.size) + data.length;
  if (size > maxBytes) throw invalidArgument('data', `the file is larger than the limit of ${maxBytes} bytes`);
  await tx.query('INSERT INTO upload_parts (upload_id, part, data) VALUES ($1, $2, $3)', [id, part, data]);
  await tx.query('UPDATE uploads SET parts = parts + 1, size = $2 WHERE id = $1', [id, size]);
  return size;
}

/** The parts of an upload in order, one query each: the file is never held whole. */
export async function* uploadBytes(q: Queryable, uploadId: string, onPart?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const fetchPart = (part: number) =>
    q.query<{ data: Buffer | Uint8Array }>('SELECT data FROM upload_parts WHERE upload_id = $1 AND part = $2', [uploadId, part]);
  // The next part is fetched while this one is read: reading the file does not wait for the
  // database between parts.
  let next = fetchPart(0);
  try {
    for (let part = 0; ; part++) {
      const { rows } = await next;
      if (!rows[0]) return;
      next = fetchPart(part + 1);
      const data = Buffer.from(rows[0].data);
      onPart?.(data.length);
      yield data;
    }
  } finally {
    // Stopped early (a file error, a preview): the fetch under way ends before the caller goes on.
    await next.catch(() => undefined);
  }
}

/** Completes an upload and previews its first data row. */
export async function completeUpload(
  q: Queryable,
  actorId: string,
  id: string,
  encoding: string,
  read: ReadOptions,
): Promise<CompleteUploadResponse> {
  const upload = await ownUpload(q, actorId, id);
  const kind = kindOf(upload.kind);
  if (encoding !== '' && encoding !== 'utf-8' && encoding !== 'windows-1252') {
    throw invalidArgument('encoding', 'encoding must be "", "utf-8" or "windows-1252"');
  }
  let header: ParsedHeader | undefined;
  const response: CompleteUploadResponse = {
    uploadId: id,
    size: Number(upload.size),
    encoding: '',
    separator: '',
    previewLine: 0,
    preview: [],
    previewRowError: '',
  };
  try {
    const rows = readRows(
      kind,
      uploadBytes(q, id),
      // The job's options are not known yet: a kind whose header row is optional is
      // previewed with or without one, as the first row looks.
      { ...read, encoding: (encoding || undefined) as Encoding | undefined, header: kind.headerOption ? 'detect' : true },
      { onHeader: (h) => (header = h) },
    );
    const first = await rows.next();
    await rows.return(undefined);
    if (first.value && header) {
      const preview = previewRow(header, first.value);
      response.previewLine = preview.line;
      response.preview = preview.columns.map((c) => ({ ...c, error: c.error ?? '' }));
      response.previewRowError = preview.rowError ?? '';
    }
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    response.fileError = { line: error.line, message: error.message };
  }
  if (header) {
    response.encoding = header.format.encoding;
    response.separator = header.format.separator;
  }
  await q.query('UPDATE uploads SET completed = true, encoding = $2, separator = $3 WHERE id = $1', [
    id,
    encoding || response.encoding || null,
    response.separator || null,
  ]);
  return response;
}

type JobRow = {
  id: string;
  upload_id: string;
  kind: string;
  file_name: string;
  dry_run: boolean;
  options: Record<string, boolean | string>;
  status: string;
  created_by: string;
  size: string;
  bytes_read: string;
  file_error_line: number | null;
  file_error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  read: string;
  added: string;
  updated: string;
  unchanged: string;
  rejected: string;
  warnings: string;
};

const JOB_SELECT = `
  SELECT j.*, u.file_name, u.size,
         coalesce(c.read, 0) AS read, coalesce(c.added, 0) AS added, coalesce(c.updated, 0) AS updated,
         coalesce(c.unchanged, 0) AS unchanged, coalesce(c.rejected, 0) AS rejected, coalesce(c.warnings, 0) AS warnings
    FROM jobs j JOIN uploads u ON u.id = j.upload_id
    LEFT JOIN LATERAL (
      SELECT sum(read) AS read, sum(added) AS added, sum(updated) AS updated, sum(unchanged) AS unchanged,
             sum(rejected) AS rejected, sum(warnings) AS warnings
        FROM job_chunks WHERE job_id = j.id) c ON true`;

function toJob(row: JobRow): ImportJob {
  const iso = (d: Date | null) => (d ? d.toISOString() : '');
  return {
    id: row.id,
    kind: row.kind,
    fileName: row.file_name,
    dryRun: row.dry_run,
    options: Object.fromEntries(Object.entries(row.options).map(([k, v]) => [k, String(v)])),
    status: row.status,
    counts: {
      read: Number(row.read),
      added: Number(row.added),
      updated: Number(row.updated),
      unchanged: Number(row.unchanged),
      rejected: Number(row.rejected),
      warnings: Number(row.warnings),
    },
    fileSize: Number(row.size),
    bytesRead: Number(row.bytes_read),
    fileError: row.file_error !== null ? { line: row.file_error_line ?? 0, message: row.file_error } : undefined,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export async function getJob(q: Queryable, actorId: string | null, id: string): Promise<ImportJob> {
  const { rows } = isId(id)
    ? await q.query<JobRow>(`${JOB_SELECT} WHERE j.id = $1 AND ($2::text IS NULL OR j.created_by = $2)`, [id, actorId])
    : { rows: [] };
  if (!rows[0]) throw notFound(`no import ${id}`, 'id');
  return toJob(rows[0]);
}

/** Queues a job on a completed upload; a replica's worker picks it up. */
export async function startImport(
  q: Queryable,
  actorId: string,
  uploadId: string,
  dryRun: boolean,
  given: Record<string, string>,
  checkKind?: (kind: string, options: KindOptions) => Promise<void>,
): Promise<ImportJob> {
  const upload = await ownUpload(q, actorId, uploadId);
  if (!upload.completed) throw failedPrecondition('complete the upload first', 'uploadId');
  const options = checkOptions(kindOf(upload.kind), given);
  // What only another service can tell (a notify template).
  await checkKind?.(upload.kind, options);
  const { rows } = await q
    .query<{ id: string }>('INSERT INTO jobs (upload_id, kind, dry_run, options, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
      uploadId,
      upload.kind,
      dryRun,
      JSON.stringify(options),
      actorId,
    ])
    .catch((error) => {
      // Deleted by the retention in the meantime (IMPORT_UPLOAD_KEEP_HOURS).
      if (foreignKeyViolation(error)) throw notFound(`no upload ${uploadId}`, 'uploadId');
      throw error;
    });
  return getJob(q, actorId, rows[0].id);
}

/** One part of a job's log or rejects file: `from` 0 is the header (and, for the log, the
 * file error when there is one, at the end), then one part per chunk. */
export async function readJobFile(
  q: Queryable,
  actorId: string,
  id: string,
  file: 'log' | 'rejects',
  from: number,
): Promise<{ data: Buffer; next: number }> {
  const job = await getJob(q, actorId, id);
  if (from === 0) {
    if (file === 'log') return { data: Buffer.from(LOG_HEADER), next: 1 };
    const { rows } = await q.query<{ rejects_header: Buffer | null }>('SELECT rejects_header FROM jobs WHERE id = $1', [id]);
    return { data: Buffer.from(rows[0].rejects_header ?? Buffer.alloc(0)), next: 1 };
  }
  const { rows } = await q.query<{ no: number; log: string; rejects: Buffer }>(
    `SELECT no, ${file === 'log' ? 'log' : 'rejects'} FROM job_chunks WHERE job_id = $1 AND no >= $2 ORDER BY no LIMIT 1`,
    [id, from - 1],
  );
  if (rows[0]) {
    const data = file === 'log' ? Buffer.from(rows[0].log) : Buffer.from(rows[0].rejects);
    return { data, next: rows[0].no + 2 };
  }
  // After the last chunk: the file error, in the log.
  const error =
    file === 'log' && job.fileError
      ? logLine({ line: job.fileError.line, column: '', value: '', severity: 'error', message: `file error: ${job.fileError.message}` })
      : '';
  return { data: Buffer.from(error), next: 0 };
}
