import { Readable } from 'node:stream';
import { ExportStatusFilter, type ExportJob as ExportJobMessage } from '@assistants/proto/gen/statistics/v1/exports';
import type { StatisticsClient } from '@assistants/statistics/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DateOrNone, Id, IdParams, OneOf, responses } from '../schemas/common';

const tags = ['exports'];

const STATUS_FILTERS = { not_started: 1, in_progress: 2, completed: 3 } as const;

const ExportFilters = Type.Object(
  {
    organisationId: Type.Optional(Id),
    audienceId: Type.Optional(Id),
    categoryId: Type.Optional(Id),
    curriculumFolderId: Type.Optional(Id),
    curriculumSubfolders: Type.Optional(Type.Boolean({ description: 'with the curricula of its sub-folders' })),
    curriculumId: Type.Optional(Id),
    courseFolderId: Type.Optional(Id),
    courseSubfolders: Type.Optional(Type.Boolean({ description: 'with the courses of its sub-folders' })),
    includeExternalTrainings: Type.Optional(Type.Boolean({ description: 'external trainings are left out unless asked' })),
    courseId: Type.Optional(Id),
    startDateFrom: Type.Optional(DateOrNone),
    endDateTo: Type.Optional(DateOrNone),
    status: Type.Optional(
      OneOf(Object.keys(STATUS_FILTERS) as (keyof typeof STATUS_FILTERS)[], 'the status at the highest level exported'),
    ),
  },
  { additionalProperties: false },
);

const NewExport = Type.Object(
  {
    filters: Type.Optional(ExportFilters),
    columns: Type.Array(Type.String(), {
      minItems: 1,
      description: 'column keys in the order wanted, e.g. user.lastName, course.status, lesson.score (see the statistics README)',
    }),
    separator: Type.Optional(OneOf([';', ','] as const)),
    bom: Type.Optional(Type.Boolean({ description: 'a UTF-8 byte order mark first, so that Excel reads the accents right' })),
  },
  { additionalProperties: false },
);

const ExportJob = Type.Object(
  {
    id: Type.String(),
    status: OneOf(['queued', 'running', 'done', 'failed'] as const),
    rowsWritten: Type.Integer(),
    bytesWritten: Type.Integer(),
    error: Type.String(),
    createdAt: Type.String(),
    finishedAt: Type.String({ description: '"" until done or failed' }),
    attempts: Type.Integer({ description: 'times it was started (a crash starts it over)' }),
    file: Type.String({ description: 'where to download the file once done; "" before' }),
  },
  { $id: 'ExportJob' },
);

export const EXPORT_SCHEMAS = [ExportJob];

const toHttpJob = (j: ExportJobMessage) => ({
  id: j.id,
  status: j.status as 'done',
  rowsWritten: j.rowsWritten,
  bytesWritten: j.bytesWritten,
  error: j.error,
  createdAt: j.createdAt,
  finishedAt: j.finishedAt,
  attempts: j.attempts,
  file: j.status === 'done' ? `/v1/exports/${j.id}/file` : '',
});

/** X1, the CSV export: a job run by the statistics service (which decides the scope from the
 * author's grants), its progress, and its file streamed chunk by chunk. */
export const exportRoutes: FastifyPluginAsyncTypebox<{ statistics: StatisticsClient }> = async (app, { statistics }) => {
  app.post(
    '/v1/exports',
    {
      schema: {
        tags,
        summary: 'Start a CSV export (X1)',
        description:
          'Filters, columns (each optional), separator `;` (default) or `,`, optional UTF-8 BOM. The rows are those of the ' +
          "author's statistics:read scope. Answers the job: follow it at its address, then download its file.",
        body: NewExport,
        response: responses({ 202: Type.Ref(ExportJob, { description: 'Started (its address in Location)' }) }),
      },
      config: { needs: 'statistics:read' },
    },
    async (request, reply) => {
      const { filters = {}, columns, separator = ';', bom = false } = request.body;
      const { job } = await statistics.exports.startExport({
        filters: {
          organisationId: filters.organisationId ?? '',
          audienceId: filters.audienceId ?? '',
          categoryId: filters.categoryId ?? '',
          curriculumFolderId: filters.curriculumFolderId ?? '',
          curriculumSubfolders: filters.curriculumSubfolders ?? false,
          curriculumId: filters.curriculumId ?? '',
          courseFolderId: filters.courseFolderId ?? '',
          courseSubfolders: filters.courseSubfolders ?? false,
          includeExternalTrainings: filters.includeExternalTrainings ?? false,
          courseId: filters.courseId ?? '',
          startDateFrom: filters.startDateFrom ?? '',
          endDateTo: filters.endDateTo ?? '',
          status: filters.status
            ? (STATUS_FILTERS[filters.status] as ExportStatusFilter)
            : ExportStatusFilter.EXPORT_STATUS_FILTER_UNSPECIFIED,
        },
        columns,
        separator,
        bom,
      });
      return reply.code(202).header('location', `/v1/exports/${job!.id}`).send(toHttpJob(job!));
    },
  );

  app.get(
    '/v1/exports/:id',
    {
      schema: {
        tags,
        summary: 'An export job: its status and the rows written so far',
        params: IdParams,
        response: responses({ 200: Type.Ref(ExportJob) }),
      },
      config: { needs: 'statistics:read' },
    },
    async (request) => toHttpJob((await statistics.exports.getExport({ id: request.params.id })).job!),
  );

  app.get(
    '/v1/exports/:id/file',
    {
      schema: {
        tags,
        summary: "A finished export's CSV file (streamed)",
        params: IdParams,
        produces: ['text/csv'],
        response: responses({ 200: Type.String({ description: 'the CSV file' }) }),
      },
      // As long as the client takes to read the file: not in the admission queue.
      config: { needs: 'statistics:read', unqueued: true },
    },
    async (request, reply) => {
      // Refused (404) before anything is sent unless the job is the caller's and done.
      const first = await statistics.exports.readExportChunk({ id: request.params.id, index: 0 });
      async function* chunks() {
        let chunk = first;
        for (let index = 1; ; index++) {
          yield chunk.data;
          if (chunk.last) return;
          chunk = await statistics.exports.readExportChunk({ id: request.params.id, index });
        }
      }
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="export-${request.params.id}.csv"`)
          // A stream, not the string the schema documents: fastify sends it as it comes.
          .send(Readable.from(chunks()) as unknown as string)
      );
    },
  );
};
