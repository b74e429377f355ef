import { notFound } from '@assistants/kit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { MergeEngine } from '../merges/engine';
import type { MergeRow, MergeStepRow } from '../merges/merges.repo';
import { IdParams, responses } from '../schemas/common';
import { Merge, NewMerge } from '../schemas/merges';
import { mayReadAll } from './runs';

const tags = ['merges'];

type JsonResult = { itemId?: string; targetId?: string; outcome?: string; code?: string; message?: string };

const OUTCOME_NAMES: Record<string, 'succeeded' | 'unchanged' | 'failed'> = {
  OUTCOME_SUCCEEDED: 'succeeded',
  OUTCOME_UNCHANGED: 'unchanged',
};

function mergeBody(row: MergeRow, steps: MergeStepRow[]) {
  const ended = row.status === 'succeeded' || row.status === 'failed';
  return {
    id: row.id,
    deleteUserId: row.delete_user_id,
    keepUserId: row.keep_user_id,
    dryRun: row.dry_run,
    status: row.status,
    succeeded: ended ? row.status === 'succeeded' : null,
    error: row.status === 'failed' ? { code: row.error_code, message: row.last_error } : null,
    waitingFor: row.status === 'pending' && row.last_error ? row.last_error : '',
    actorId: row.actor_id,
    actorLogin: row.actor_login,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    steps: steps.map((s) => {
      const results = (s.results as JsonResult[]).map((r) => ({
        itemId: r.itemId ?? '',
        targetId: r.targetId ?? '',
        outcome: OUTCOME_NAMES[r.outcome ?? ''] ?? 'failed',
        code: r.code ?? '',
        message: r.message ?? '',
      }));
      return {
        name: s.name,
        status: s.status,
        message: s.message,
        moved: results.filter((r) => r.outcome === 'succeeded').length,
        results,
      };
    }),
  };
}

/** M1, the user merge: the user to delete's data moves to the user to keep, then it is
 * deleted (a persisted saga, see merges/). A merge is its creator's: to others it does not
 * exist, unless they hold runs:read-all on the root. */
export const mergeRoutes: FastifyPluginAsyncTypebox<{ merges: MergeEngine }> = async (app, { merges }) => {
  const present = async (row: MergeRow) => mergeBody(row, await merges.steps(row.id));

  app.post(
    '/v1/merges',
    {
      schema: {
        tags,
        summary: 'M1: merge two users — the user to delete’s data moves to the user to keep, then it is deleted',
        description:
          'Course and curriculum assignments, certificates and tutorships (assignment), progress (statistics, when the suite ' +
          'has it), static list memberships (identity) move to keepUserId; where both hold the same course or curriculum, one ' +
          'assignment remains with the most generous values of the two (earlier start, later objective and end, stronger ' +
          'option); then deleteUserId is deleted, only once every step before succeeded. Each step is first checked as a dry ' +
          'run: you must be allowed to change both users (404 when one is outside your scope, 403 when one holds rights you ' +
          'do not). With dryRun the answer says what would move and nothing changes; otherwise 202, and the merge goes on ' +
          'in the background, whatever restarts (GET /v1/merges/{id}).',
        body: NewMerge,
        response: responses({ 202: Type.Ref(Merge, { description: 'Accepted: the merge (a dry run: answered)' }) }),
      },
    },
    async (request, reply) => {
      const row = await merges.create(request.body, {
        userId: request.principal.userId,
        login: request.principal.login,
        correlationId: request.id,
      });
      return reply
        .code(202)
        .header('location', `/v1/merges/${row.id}`)
        .send(await present(row));
    },
  );

  app.get(
    '/v1/merges/:id',
    {
      schema: {
        tags,
        summary: 'A merge: its status, whether it succeeded, and what moved at each step',
        params: IdParams,
        response: responses({ 200: Type.Ref(Merge) }),
      },
    },
    async (request) => {
      const row = await merges.find(request.params.id);
      if (!row || (row.actor_id !== request.principal.userId && !mayReadAll(request.principal))) {
        throw notFound(`no merge ${request.params.id}`, 'params.id');
      }
      return present(row);
    },
  );
};
