import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** The error kinds every service speaks. They map one-to-one to gRPC status codes here and
 * to HTTP statuses in the gateway. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE'
  | 'ABORTED';

/** An error the caller can act on: its message is meant for the caller and `field` names
 * the input at fault (a request field, a CSV column). */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidArgument = (field: string, message: string) => new DomainError('INVALID_ARGUMENT', message, field);
export const notFound = (message: string, field?: string) => new DomainError('NOT_FOUND', message, field);
export const alreadyExists = (message: string, field?: string) => new DomainError('ALREADY_EXISTS', message, field);
export const failedPrecondition = (message: string, field?: string) => new DomainError('FAILED_PRECONDITION', message, field);
export const permissionDenied = (message: string, field?: string) => new DomainError('PERMISSION_DENIED', message, field);
export const unauthenticated = (message: string) => new DomainError('UNAUTHENTICATED', message);
export const resourceExhausted = (message: string) => new DomainError('RESOURCE_EXHAUSTED', message);

const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNAVAILABLE: status.UNAVAILABLE,
  ABORTED: status.ABORTED,
};

/** Set on every answer that carries a DomainError: only those messages are meant for the
 * caller. A status without it comes from the transport (a refused connection, a deadline)
 * and its text may name internal addresses. */
const DOMAIN_KEY = 'x-domain-error';
const FIELD_KEY = 'x-error-field';
const ERROR_ID_KEY = 'x-error-id';

/** PostgreSQL's "canceling statement due to statement timeout" (db.ts sets the timeout from
 * the call's deadline). */
const QUERY_CANCELED = '57014';
/** PostgreSQL's deadlock_detected and serialization_failure: the transaction met a concurrent
 * one and was rolled back whole; the same call made again can pass. */
const CONCURRENT_CHANGE = new Set(['40P01', '40001']);

export interface GrpcErrorPayload {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Server side: what a failed call answers. A DomainError keeps its message and field;
 * a statement stopped at the deadline is DEADLINE_EXCEEDED, a transaction rolled back by a
 * deadlock or a serialization failure ABORTED; anything else becomes INTERNAL
 * with only an error id, which the service logs next to the real error. */
export function toGrpcError(err: unknown, errorId: string): GrpcErrorPayload {
  const metadata = new Metadata();
  const domain = asDomainError(err);
  if (domain) {
    metadata.set(DOMAIN_KEY, '1');
    if (domain.field) metadata.set(FIELD_KEY, domain.field);
    return { code: GRPC_STATUS[domain.code], details: domain.message, metadata };
  }
  metadata.set(ERROR_ID_KEY, errorId);
  return { code: status.INTERNAL, details: `internal error ${errorId}`, metadata };
}

/** A DomainError, or what a known low-level failure means to the caller. */
export function asDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const pgCode = (err as { code?: unknown })?.code;
  if (pgCode === QUERY_CANCELED) {
    return new DomainError('DEADLINE_EXCEEDED', 'the request took longer than its deadline and was stopped');
  }
  if (typeof pgCode === 'string' && CONCURRENT_CHANGE.has(pgCode)) {
    return new DomainError('ABORTED', 'the change met a concurrent change and was rolled back; it can be made again');
  }
  return undefined;
}

/** What a caller is told when a service cannot be reached or does not answer in time:
 * never the transport's own text, which names hosts and ports. */
const TRANSPORT_MESSAGES: Partial<Record<status, [ErrorCode, string]>> = {
  [status.UNAVAILABLE]: ['UNAVAILABLE', 'is unavailable, try again shortly'],
  [status.DEADLINE_EXCEEDED]: ['DEADLINE_EXCEEDED', 'did not answer in time'],
  [status.CANCELLED]: ['UNAVAILABLE', 'cancelled the call'],
  [status.RESOURCE_EXHAUSTED]: ['RESOURCE_EXHAUSTED', 'is overloaded, try again shortly'],
};

/** Client side: a failed call back into a DomainError. The service's own refusals keep their
 * message and field; transport failures become UNAVAILABLE or DEADLINE_EXCEEDED with a
 * message naming only the service; anything else (INTERNAL...) stays the gRPC error. */
export function fromGrpcError(err: ServiceError, serviceName = 'a service'): Error {
  if (err.metadata?.get(DOMAIN_KEY)[0] === '1') {
    const code = (Object.keys(GRPC_STATUS) as ErrorCode[]).find((c) => GRPC_STATUS[c] === err.code);
    if (code) {
      const field = err.metadata.get(FIELD_KEY)[0];
      return new DomainError(code, err.details, typeof field === 'string' ? field : undefined);
    }
  }
  const transport = TRANSPORT_MESSAGES[err.code];
  if (transport) return Object.assign(new DomainError(transport[0], `${serviceName} ${transport[1]}`), { cause: err });
  return err;
}
