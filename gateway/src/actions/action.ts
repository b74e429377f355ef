import type { BatchHeader, BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Upstreams } from '../upstreams';

/** What an assistant acts on: the selection of a run is resolved into ids of one of these. */
export type AssistantKind = 'users' | 'courses' | 'curricula';

/**
 * One action of an assistant (U7, C3, P4…), as the run engine (runs/) sees it: the HTTP
 * parameters it takes, and how one batch of selected items is sent to the service that owns
 * the change. The engine knows nothing else about the action:
 * - it validates a run's parameters by calling `apply` with no items and a dry-run header
 *   (the service throws INVALID_ARGUMENT naming the field, which becomes a 400);
 * - it sends each frozen batch once with the idempotency key "run:<run id>:<batch number>";
 * - a dry run sends every batch with `dryRun: true`.
 * Parameter names are the camelCase JSON names; tri-state fields are "unchanged" | "yes" | "no".
 */
export interface ActionDefinition<P extends TSchema = TSchema> {
  /** The spec's ID, e.g. "U7". */
  id: string;
  assistant: AssistantKind;
  /** e.g. "Assign courses". */
  title: string;
  /** TypeBox schema of the action's parameters (the run request's `params`). */
  params: P;
  apply(upstreams: Upstreams, itemIds: string[], params: Static<P>, batch: BatchHeader): Promise<BatchResult>;
}

/** Declares an action with its parameters' type inferred from the schema. */
export function defineAction<P extends TSchema>(action: ActionDefinition<P>): ActionDefinition<P> {
  return action;
}

/** "unchanged" | "yes" | "no" as an optional boolean (undefined = leave as it is). */
export function triState(value: 'unchanged' | 'yes' | 'no' | undefined): boolean | undefined {
  return value === 'yes' ? true : value === 'no' ? false : undefined;
}
