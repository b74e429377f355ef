import { Readable } from 'node:stream';
import { documentationPage, sampleFile } from '@assistants/import/engine';
import type { ImportClient } from '@assistants/import/client';
import { KINDS } from '@assistants/import/kinds';
import { invalidArgument, notFound } from '@assistants/kit';
import { ImportFileKind, type ImportJob as ImportJobMessage } from '@assistants/proto/gen/import/v1/imports';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Id, IdParams, OneOf, responses } from '../schemas/common';

const tags = ['imports'];
/** Each row is then decided by the service that owns it, with the caller's other permissions. */
const NEEDS =
  'imports:run (then, per row, the permissions of what it changes: organisations:write, users:write, roles:grant, lists:write…)';

/** What goes to the import service in one call while a file streams in. */
const PART_BYTES = 1024 * 1024;

const KindParams = Type.Object({ kind: OneOf(Object.keys(KINDS), 'the import kind') });

const Counts = Type.Object({
  read: Type.Integer(),
  added: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
  warnings: Type.Integer(),
});
const FileError = Type.Object({ line: Type.Integer({ description: '0 when not about one line' }), message: Type.String() });
const ImportJob = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    fileName: Type.String(),
    dryRun: Type.Boolean(),
    options: Type.Record(Type.String(), Type.String()),
    status: Type.String({ description: 'queued, running, completed, or failed (a file error stopped it)' }),
    counts: Counts,
    fileSize: Type.Integer(),
    bytesRead: Type.Integer({ description: 'progress: bytes of the file read so far' }),
    fileError: Type.Optional(FileError),
    createdBy: Type.String(),
    createdAt: Type.String(),
    startedAt: Type.String(),
    finishedAt: Type.String(),
  },
  { $id: 'ImportJob' },
);
const Upload = Type.Object(
  {
    uploadId: Type.String(),
    kind: Type.String(),
    size: Type.Integer(),
    encoding: Type.String({ description: 'utf-8 or windows-1252 (detected, or as chosen)' }),
    separator: Type.String(),
    preview: Type.Object({
      line: Type.Integer({ description: 'the line of the first data row' }),
      rowError: Type.Optional(Type.String({ description: 'why the whole row is wrong (e.g. its column count)' })),
      columns: Type.Array(
        Type.Object({
          column: Type.String(),
          field: Type.String({ description: 'the field it goes to' }),
          value: Type.String({ description: 'the value read' }),
          format: Type.String(),
          error: Type.Optional(Type.String({ description: 'why the value is wrong' })),
        }),
      ),
    }),
    fileError: Type.Optional(FileError),
    options: Type.Array(
      Type.Object({ name: Type.String(), description: Type.String(), values: Type.Array(Type.String()), default: Type.String() }),
    ),
  },
  { $id: 'ImportUpload' },
);

export const IMPORT_SCHEMAS = [ImportJob, Upload];

const toJob = (job: ImportJobMessage) => ({
  ...job,
  counts: job.counts ?? { read: 0, added: 0, updated: 0, unchanged: 0, rejected: 0, warnings: 0 },
});

function tooLarge(maxFileBytes: number) {
  return Object.assign(new Error(`the file is larger than the limit of ${maxFileBytes} bytes`), {
    statusCode: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
}

const optionsOf = (kind: string) =>
  KINDS[kind].options.map((o) => ({
    name: o.name,
    description: o.description,
    values: o.type === 'boolean' ? ['true', 'false'] : [...(o.values ?? [])],
    default: String(o.default),
  }));

/** CSV imports: the kinds' sample files and documentation, the upload (streamed to the import
 * service part by part) and its preview, the job, its log and rejects files. */
export const importRoutes: FastifyPluginAsyncTypebox<{ imports: ImportClient; maxFileBytes: number }> = async (
  app,
  { imports, maxFileBytes },
) => {
  // Only here: the other routes take JSON. `throwFileSizeLimit`: a file over the limit stops
  // the upload with 413 instead of being cut silently.
  await app.register(multipart, { limits: { fileSize: maxFileBytes, files: 1, fields: 0, parts: 1 }, throwFileSizeLimit: true });

  app.get(
    '/v1/imports/kinds/:kind/sample.csv',
    {
      schema: {
        tags,
        summary: 'The sample file of an import kind: every column and one example row',
        params: KindParams,
        produces: ['text/csv'],
        response: responses({ 200: Type.String({ description: 'the CSV file (`;`, UTF-8 with a BOM, CRLF)' }) }),
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.kind}-sample.csv"`)
        .send(sampleFile(KINDS[request.params.kind])),
  );

  app.get(
    '/v1/imports/kinds/:kind/documentation.md',
    {
      schema: {
        tags,
        summary: 'The documentation page of an import kind (Markdown): its columns, formats and options',
        params: KindParams,
        produces: ['text/markdown'],
        response: responses({ 200: Type.String() }),
      },
    },
    async (request, reply) => reply.type('text/markdown; charset=utf-8').send(documentationPage(KINDS[request.params.kind])),
  );

  app.post(
    '/v1/imports/kinds/:kind/uploads',
    {
      schema: {
        tags,
        summary: 'Upload a file (multipart/form-data, one file field) and get the preview of its first data row',
        description:
          'The file streams to the import service in parts and is never held whole. The answer previews the first data row column ' +
          'by column (value read, field it goes to, or why it is wrong), or the file error (empty, binary, unknown header...), and ' +
          'lists the options of the kind. 413 when the file is larger than the limit.',
        params: KindParams,
        querystring: Type.Object({
          encoding: Type.Optional(OneOf(['utf-8', 'windows-1252'], 'the file’s encoding (default: detected)')),
        }),
        consumes: ['multipart/form-data'],
        response: responses({ 201: Type.Ref(Upload) }),
      },
      // As long as the client takes to send the file: not in the admission queue.
      config: { needs: NEEDS, unqueued: true },
    },
    async (request, reply) => {
      const file = await request.file();
      if (!file) throw invalidArgument('body.file', 'send the file as a multipart/form-data file field');
      const { uploadId } = await imports.imports.createUpload({ kind: request.params.kind, fileName: file.filename ?? '' });
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let part = 0;
      // One part is stored while the next one is read from the request: the parts go in
      // order, one at a time, and at most two are held here.
      let storing: Promise<unknown> = Promise.resolve();
      const flush = async () => {
        const data = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await storing;
        storing = imports.imports.appendUpload({ uploadId, part: part++, data });
        storing.catch(() => {}); // awaited with the next part, or at the end
      };
      for await (const chunk of file.file as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= PART_BYTES) await flush();
      }
      // Cut at the limit (the plugin stops reading there): refused, not imported in part.
      if (file.file.truncated) throw tooLarge(maxFileBytes);
      if (pendingBytes > 0) await flush();
      await storing;
      const done = await imports.imports.completeUpload({ uploadId, encoding: request.query.encoding ?? '' });
      return reply
        .code(201)
        .header('location', `/v1/imports/uploads/${uploadId}`)
        .send({
          uploadId,
          kind: request.params.kind,
          size: done.size,
          encoding: done.encoding,
          separator: done.separator,
          preview: {
            line: done.previewLine,
            ...(done.previewRowError ? { rowError: done.previewRowError } : {}),
            columns: done.preview.map((c) => ({
              column: c.column,
              field: c.field,
              value: c.value,
              format: c.format,
              ...(c.error ? { error: c.error } : {}),
            })),
          },
          ...(done.fileError ? { fileError: done.fileError } : {}),
          options: optionsOf(request.params.kind),
        });
    },
  );

  app.post(
    '/v1/imports',
    {
      schema: {
        tags,
        summary: 'Start the import of an uploaded file: a job (real or dry run) that reports its progress',
        description:
          'A dry run reads the whole file against the current data through the same code and gives the same counts, log and ' +
          'rejects, writing nothing. Options not given take their default (see the upload answer or the kind’s documentation).',
        body: Type.Object(
          {
            uploadId: Id,
            dryRun: Type.Optional(Type.Boolean({ default: false })),
            options: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Boolean()]))),
          },
          { additionalProperties: false },
        ),
        response: responses({ 202: Type.Ref(ImportJob, { description: 'Accepted: the job, queued (its address in Location)' }) }),
      },
      config: { needs: NEEDS },
    },
    async (request, reply) => {
      const options = Object.fromEntries(Object.entries(request.body.options ?? {}).map(([k, v]) => [k, String(v)]));
      const { job } = await imports.imports.startImport({ uploadId: request.body.uploadId, dryRun: request.body.dryRun ?? false, options });
      return reply.code(202).header('location', `/v1/imports/${job!.id}`).send(toJob(job!));
    },
  );

  app.get(
    '/v1/imports/:id',
    {
      schema: {
        tags,
        summary: 'An import job: status, progress, counts',
        params: IdParams,
        response: responses({ 200: Type.Ref(ImportJob) }),
      },
    },
    async (request) => toJob((await imports.imports.getImport({ id: request.params.id })).job!),
  );

  const fileRoute = (name: 'log' | 'rejects', file: ImportFileKind, description: string) =>
    app.get(
      `/v1/imports/:id/${name}.csv`,
      {
        schema: { tags, summary: description, params: IdParams, produces: ['text/csv'], response: responses({ 200: Type.String() }) },
        config: { unqueued: true },
      },
      async (request, reply) => {
        const { job } = await imports.imports.getImport({ id: request.params.id });
        if (!job) throw notFound(`no import ${request.params.id}`, 'params.id');
        async function* parts() {
          let from = 0;
          do {
            const answer = await imports.imports.readImportFile({ id: request.params.id, file, from });
            yield Buffer.from(answer.data);
            from = answer.next;
          } while (from !== 0);
        }
        return reply
          .type(name === 'log' ? 'text/csv; charset=utf-8' : 'text/csv')
          .header('content-disposition', `attachment; filename="import-${job.id}-${name}.csv"`)
          .send(Readable.from(parts()) as unknown as string);
      },
    );
  fileRoute(
    'log',
    ImportFileKind.IMPORT_FILE_KIND_LOG,
    'The log of an import: line;column;value;severity;message (errors reject the row, warnings do not)',
  );
  fileRoute(
    'rejects',
    ImportFileKind.IMPORT_FILE_KIND_REJECTS,
    'The rejected rows exactly as they were in the file (its encoding and separator) plus a reason column, ready to fix and import again',
  );
};
