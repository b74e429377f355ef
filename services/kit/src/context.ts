import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The correlation id ties together the log lines, gRPC calls and events caused by one
 * HTTP request, assistant run or event delivery. It travels in gRPC metadata under this
 * key and in event envelopes. */
export const CORRELATION_HEADER = 'x-correlation-id';

const storage = new AsyncLocalStorage<{ correlationId: string }>();

export function withCorrelationId<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId || randomUUID() }, fn);
}

/** Callback style, for frameworks whose hooks take a `done` callback (fastify): what runs
 * after `next` runs with the correlation id. */
export function runWithCorrelationId(correlationId: string, next: () => void): void {
  storage.run({ correlationId }, next);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
