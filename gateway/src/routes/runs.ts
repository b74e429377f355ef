import { Readable } from 'node:stream';
import { ALL_PERMISSIONS, csvCell, invalidArgument, notFound, ROOT_ORGANISATION_ID } from '@assistants/kit';
import type { Principal } from '@assistants/proto/gen/identity/v1/auth';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdParams, responses } from '../schemas/common';
import { Action, CsvQuery, NewRun, ResultPage, ResultsQuery, Run, RunList, RunListQuery } from '../schemas/runs';
import { decodeCursor, encodeCursor } from '../runs/cursor';
import type { RunEngine } from '../runs/engine';
import { runBody } from '../runs/progress';
import { countResults, findRun, listResults, listRuns, waitingReason, type ResultRow, type RunRow } from '../runs/runs.repo';

/** Whoever holds it on the root sees every user's runs (operators, auditors). */
export const READ_ALL_RUNS = 'runs:read-all';

const tags = ['runs'];

export function mayReadAll(principal: Principal): boolean {
  return principal.grants.some(
    (g) => g.organisationId === ROOT_ORGANISATION_ID && (g.permissions.includes(READ_ALL_RUNS) || g.permissions.includes(ALL_PERMISSIONS)),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CREATED_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Assistant runs: create (validated, selection frozen, 202), follow, read the results
 * (JSON pages or one CSV), cancel. A run is its creator's: to others it does not exist,
 * unless they hold runs:read-all on the root. */
export const runRoutes: FastifyPluginAsyncTypebox<{ runs: RunEngine }> = async (app, { runs }) => {
  const { db } = runs;
  const present = async (row: RunRow) =>
    runBody(
      row,
      runs.actions.get(row.action)?.definition.title ?? row.action,
      row.status === 'pending' || row.status === 'running' ? await waitingReason(db, row.id) : '',
    );

  /** The run, when the caller may see it. */
  const visibleRun = async (id: string, principal: Principal) => {
    const row = await findRun(db, id);
    if (!row || (row.actor_id !== principal.userId && !mayReadAll(principal))) throw notFound(`no run ${id}`, 'params.id');
    return row;
  };

  app.get(
    '/v1/actions',
    {
      schema: {
        tags,
        summary: 'Every assistant action a run can apply, with the JSON schema of its parameters',
        querystring: Type.Object({ assistant: Type.Optional(Action.properties.assistant) }, { additionalProperties: false }),
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(Action)) }) }),
      },
    },
    async (request) => ({
      items: runs.actions
        .list(request.query.assistant)
        .map((a) => ({ id: a.id, assistant: a.assistant, title: a.title, params: a.params })),
    }),
  );

  app.post(
    '/v1/runs',
    {
      schema: {
        tags,
        summary: 'Start a run: one action with its parameters, applied to every item of a selection',
        description:
          'Everything is checked before anything starts: the action, its parameters (by the service that owns the change: ' +
          'a 400 names `params.<field>`), the selection. The selection is resolved once, in your scope, into the items of the ' +
          'run; batches of them then go to the owning service, each once, whatever restarts. Follow it with GET /v1/runs/{id}. ' +
          'With dryRun, the results say what each item would become and nothing changes. The run acts with your rights, as ' +
          'they are when each batch is sent.',
        body: NewRun,
        response: responses({ 202: Type.Ref(Run, { description: 'Accepted: the run, frozen and queued' }) }),
      },
    },
    async (request, reply) => {
      const row = await runs.create(request.body, {
        userId: request.principal.userId,
        login: request.principal.login,
        correlationId: request.id,
      });
      return reply
        .code(202)
        .header('location', `/v1/runs/${row.id}`)
        .send(await present(row));
    },
  );

  app.get(
    '/v1/runs',
    {
      schema: {
        tags,
        summary: 'Runs, newest first: your own, or everyone’s with runs:read-all on the root',
        querystring: RunListQuery,
        response: responses({ 200: RunList }),
      },
    },
    async (request) => {
      const { status, assistant, actorId, limit = 50, after } = request.query;
      const readAll = mayReadAll(request.principal);
      if (!readAll && actorId && actorId !== request.principal.userId) return { items: [], total: 0, limit, nextCursor: '' };
      let before: { createdAt: string; id: string } | undefined;
      if (after) {
        const [createdAt, id] = decodeCursor(after, ['string', 'string']) as [string, string];
        if (!CREATED_KEY.test(createdAt) || !UUID.test(id))
          throw invalidArgument('query.after', 'query.after must be the nextCursor of a previous page');
        before = { createdAt, id };
      }
      const { rows, total } = await listRuns(db, {
        actorId: readAll ? actorId : request.principal.userId,
        status,
        assistant,
        before,
        limit,
      });
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return {
        items: await Promise.all(rows.slice(0, limit).map(present)),
        total,
        limit,
        nextCursor: last ? encodeCursor([last.created_key, last.id]) : '',
      };
    },
  );

  app.get(
    '/v1/runs/:id',
    {
      schema: {
        tags,
        summary: 'A run and its progress: done, total, outcomes, rate, time left',
        params: IdParams,
        response: responses({ 200: Type.Ref(Run) }),
      },
    },
    async (request) => present(await visibleRun(request.params.id, request.principal)),
  );

  app.post(
    '/v1/runs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a run: the batches being sent finish, the others are never sent',
        description:
          'The run is cancelling until its batches in flight are stored, then cancelled. Items never sent are in the results ' +
          'as not_done. Only the run’s creator cancels it; a run that has ended answers 409.',
        params: IdParams,
        response: responses({ 200: Type.Ref(Run) }),
      },
    },
    async (request) => present(await runs.cancel(request.params.id, request.principal.userId)),
  );

  const resultBody = (r: ResultRow) => ({
    itemId: r.item_id,
    itemLabel: r.label,
    targetId: r.target_id,
    outcome: r.outcome,
    code: r.code,
    message: r.message,
  });

  app.get(
    '/v1/runs/:id/results',
    {
      schema: {
        tags,
        summary: 'One page of a run’s results, in item order: one per item, and per target when the action has several',
        params: IdParams,
        querystring: ResultsQuery,
        response: responses({ 200: ResultPage }),
      },
    },
    async (request) => {
      const run = await visibleRun(request.params.id, request.principal);
      const { outcome, limit = 100, after } = request.query;
      const key = after ? (decodeCursor(after, ['number', 'number']) as [number, number]) : undefined;
      const [rows, total] = await Promise.all([listResults(db, run.id, { outcome, after: key, limit }), countResults(db, run.id, outcome)]);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return { items: rows.slice(0, limit).map(resultBody), total, limit, nextCursor: last ? encodeCursor([last.seq, last.n]) : '' };
    },
  );

  app.get(
    '/v1/runs/:id/results.csv',
    {
      schema: {
        tags,
        summary: 'Every result of a run as one CSV file (streamed)',
        description:
          'Separator `;`, a header row (item;label;target;outcome;code;message), UTF-8 with a byte order mark and CRLF line ' +
          'ends, as Excel reads it. Cells that a spreadsheet would take for a formula are prefixed with an apostrophe.',
        params: IdParams,
        querystring: CsvQuery,
        produces: ['text/csv'],
        response: responses({ 200: Type.String({ description: 'the CSV file' }) }),
      },
      // As long as the client takes to read the file: not in the admission queue.
      config: { unqueued: true },
    },
    async (request, reply) => {
      const run = await visibleRun(request.params.id, request.principal);
      const { outcome } = request.query;
      async function* lines() {
        yield '\uFEFFitem;label;target;outcome;code;message\r\n';
        let after: [number, number] | undefined;
        for (;;) {
          const rows = await listResults(db, run.id, { outcome, after, limit: CSV_PAGE });
          const page = rows.slice(0, CSV_PAGE);
          if (page.length > 0) {
            yield (
              page.map((r) => [r.item_id, r.label, r.target_id, r.outcome, r.code, r.message].map(csvCell).join(';')).join('\r\n') + '\r\n'
            );
          }
          if (rows.length <= CSV_PAGE) return;
          after = [page[page.length - 1].seq, page[page.length - 1].n];
        }
      }
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="run-${run.id}-results.csv"`)
          // A stream, not the string the schema documents: fastify sends it as it comes.
          .send(Readable.from(lines()) as unknown as string)
      );
    },
  );
};

const CSV_PAGE = 5000;
