import { randomUUID } from 'node:crypto';
import { DomainError, failedPrecondition, invalidArgument, notFound, type Database } from '@assistants/kit';
import type { AssistantKind } from '../actions/action';
import type { Upstreams } from '../upstreams';
import type { ActionRegistry } from './registry';
import { cancelRun, findRun, insertItems, insertRun, sealRun, type RunRow } from './runs.repo';
import type { SelectionResolver } from './selections';
import type { RunWorker } from './worker';

export interface RunRequest {
  assistant: AssistantKind;
  action: string;
  selection: unknown;
  params?: unknown;
  dryRun?: boolean;
}

/** Who asks: the run acts on their behalf, with their scope, under their request's
 * correlation id, for as long as it takes. */
export interface RunCaller {
  userId: string;
  login: string;
  correlationId: string;
}

export interface RunEngineOptions {
  db: Database;
  upstreams: Upstreams;
  actions: ActionRegistry;
  resolvers: Record<AssistantKind, SelectionResolver>;
  worker: RunWorker;
  batchSize: number;
  maxItems: number;
}

/** Runs as the API sees them: created (validated, selection frozen) and cancelled here; the
 * worker of every replica carries them out. */
export class RunEngine {
  constructor(readonly options: RunEngineOptions) {}

  get db(): Database {
    return this.options.db;
  }

  get actions(): ActionRegistry {
    return this.options.actions;
  }

  /**
   * Checks everything a run needs before anything starts, then freezes it:
   * 1. the action, one of its assistant's;
   * 2. the parameters against the action's schema, then by the owning service (the action
   *    called with no items, as a dry run: its INVALID_ARGUMENT names the field);
   * 3. the selection, resolved once in the caller's scope into the run's items, inserted
   *    page by page with the run and its batches in one transaction.
   * Must run in the caller's request context (its acting user).
   */
  async create(request: RunRequest, caller: RunCaller): Promise<RunRow> {
    const { db, upstreams, actions, resolvers, batchSize, maxItems } = this.options;
    const action = actions.forRun(request.assistant, request.action);
    const params = action.checkParams(request.params ?? {}, 'params');
    const resolver = resolvers[request.assistant];
    const selection = resolver.check(request.selection, 'selection');
    try {
      await action.definition.apply(upstreams, [], params, { idempotencyKey: '', dryRun: true });
    } catch (err) {
      // The service names the field as the action's parameter: under `params` in the request.
      if (err instanceof DomainError && err.field) throw new DomainError(err.code, err.message, `params.${err.field}`);
      // A refusal of the parameters as a whole (e.g. U1 with nothing to change) is about `params`.
      if (err instanceof DomainError && err.code === 'INVALID_ARGUMENT') throw new DomainError(err.code, err.message, 'params');
      throw err;
    }
    const run = await db.transaction(async (tx) => {
      const id = randomUUID();
      await insertRun(tx, {
        id,
        assistant: request.assistant,
        action: action.definition.id,
        params,
        selection: request.selection,
        actorId: caller.userId,
        actorLogin: caller.login,
        correlationId: caller.correlationId,
        dryRun: request.dryRun ?? false,
        batchSize,
      });
      // Each page is stored while the next one is fetched.
      let total = 0;
      let storing: Promise<void> = Promise.resolve();
      for await (const page of resolver.resolve(upstreams, selection, maxItems)) {
        await storing;
        storing = insertItems(tx, id, total, page.ids, page.labels);
        // Awaited at the next page or the end; a failure meanwhile is not an unhandled one.
        storing.catch(() => {});
        total += page.ids.length;
      }
      await storing;
      if (total === 0) throw invalidArgument('selection', 'the selection holds nothing you may act on');
      return sealRun(tx, id, total, batchSize);
    });
    this.options.worker.wake();
    return run;
  }

  /** Only its creator cancels a run; to anyone else it does not exist. */
  async cancel(runId: string, callerId: string): Promise<RunRow> {
    const { db } = this.options;
    const run = await findRun(db, runId);
    if (!run || run.actor_id !== callerId) throw notFound(`no run ${runId}`, 'params.id');
    const status = await db.transaction((tx) => cancelRun(tx, runId));
    if (status !== 'cancelling' && status !== 'cancelled') throw failedPrecondition(`the run has ended already (${status})`);
    return (await findRun(db, runId))!;
  }
}
