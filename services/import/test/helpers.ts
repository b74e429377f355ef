import { ImportFileKind, type ImportJob } from '@assistants/proto/gen/import/v1/imports';
import type { ImportClient } from '@assistants/testing';

/** Uploads `file` in parts, completes it, starts the job and waits for its end. */
export async function runImport(
  client: ImportClient,
  kind: string,
  file: string | Buffer,
  options: { dryRun?: boolean; options?: Record<string, string>; partBytes?: number; timeoutMs?: number } = {},
) {
  const bytes = typeof file === 'string' ? Buffer.from(file) : file;
  const { uploadId } = await client.imports.createUpload({ kind, fileName: `${kind}.csv` });
  const partBytes = options.partBytes ?? 1000;
  for (let i = 0, part = 0; i < bytes.length; i += partBytes, part++) {
    await client.imports.appendUpload({ uploadId, part, data: bytes.subarray(i, i + partBytes) });
  }
  const upload = await client.imports.completeUpload({ uploadId, encoding: '' });
  const { job } = await client.imports.startImport({ uploadId, dryRun: options.dryRun ?? false, options: options.options ?? {} });
  const done = await waitForJob(client, job!.id, options.timeoutMs);
  return { upload, job: done, log: await readFile(client, done.id, 'log'), rejects: await readFile(client, done.id, 'rejects') };
}

export async function waitForJob(client: ImportClient, id: string, timeoutMs = 30_000): Promise<ImportJob> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await client.imports.getImport({ id });
    if (job!.status === 'completed' || job!.status === 'failed') return job!;
    if (Date.now() > until) throw new Error(`import ${id} still ${job!.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function readFile(client: ImportClient, id: string, file: 'log' | 'rejects'): Promise<Buffer> {
  const parts: Buffer[] = [];
  let from = 0;
  do {
    const answer = await client.imports.readImportFile({
      id,
      file: file === 'log' ? ImportFileKind.IMPORT_FILE_KIND_LOG : ImportFileKind.IMPORT_FILE_KIND_REJECTS,
      from,
    });
    parts.push(Buffer.from(answer.data));
    from = answer.next;
  } while (from !== 0);
  return Buffer.concat(parts);
}
