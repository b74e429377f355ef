import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The correlation id ties together the log lines, gRPC calls and events caused by one
 * HTTP request, assistant run or event delivery. It travels in gRPC metadata under this
 * key and in event envelopes. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** The user on whose behalf a gRPC call is made (the administrator behind an HTTP request or
 * an assistant run). The owning service decides from this user's own role grants what the
 * call may see and change. */
export const ACTOR_HEADER = 'x-actor-id';

/** What the code running for one request, run or event knows about it. */
export interface RequestContext {
  correlationId: string;
  /** The acting user, when there is one. */
  actorId?: string;
  /** Epoch milliseconds after which nobody waits for the answer: database statements stop
   * then (db.ts), so a caller's timeout does not leave work running. */
  deadline?: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs fn in a context of its own; what is not given is inherited from the current one,
 * except the correlation id, which is new when not given. */
export function withContext<T>(context: Partial<RequestContext>, fn: () => T): T {
  const current = storage.getStore();
  return storage.run({ ...current, ...context, correlationId: context.correlationId || current?.correlationId || randomUUID() }, fn);
}

export function withCorrelationId<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId || randomUUID() }, fn);
}

/** Callback style, for frameworks whose hooks take a `done` callback (fastify): what runs
 * after `next` runs with the correlation id. */
export function runWithCorrelationId(correlationId: string, next: () => void): void {
  storage.run({ correlationId }, next);
}

/** `fn`, to be called later from elsewhere, running in the context current now. For a
 * callback that another request's completion calls (the gateway's admission queue admits a
 * waiting request when one in progress ends): without this, the waiting request would go on
 * in the ended request's context, with its correlation id, and share its acting user. */
export function bindContext(fn: () => void): () => void {
  const store = storage.getStore();
  return store ? () => storage.run(store, fn) : () => storage.exit(fn);
}

/** Sets the acting user of the current context (fastify: once the request is authenticated,
 * for the hooks and handler that follow). */
export function bindActor(actorId: string): void {
  const store = storage.getStore();
  if (!store) throw new Error('bindActor outside of a context');
  store.actorId = actorId;
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Milliseconds left before the current deadline; undefined when there is none. */
export function remainingMs(): number | undefined {
  const deadline = storage.getStore()?.deadline;
  return deadline === undefined ? undefined : deadline - Date.now();
}
