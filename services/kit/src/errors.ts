import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** The error kinds every service speaks. They map one-to-one to gRPC status codes here and
 * to HTTP statuses in the gateway. */
export type ErrorCode =
  'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'FAILED_PRECONDITION' | 'PERMISSION_DENIED' | 'UNAUTHENTICATED' | 'UNAVAILABLE';

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
export const permissionDenied = (message: string) => new DomainError('PERMISSION_DENIED', message);
export const unauthenticated = (message: string) => new DomainError('UNAUTHENTICATED', message);

const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  UNAVAILABLE: status.UNAVAILABLE,
};

const FIELD_KEY = 'x-error-field';
const ERROR_ID_KEY = 'x-error-id';

export interface GrpcErrorPayload {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Server side: what a failed call answers. A DomainError keeps its message and field;
 * anything else becomes INTERNAL with only an error id, which the service logs next to
 * the real error. */
export function toGrpcError(err: unknown, errorId: string): GrpcErrorPayload {
  const metadata = new Metadata();
  if (err instanceof DomainError) {
    if (err.field) metadata.set(FIELD_KEY, err.field);
    return { code: GRPC_STATUS[err.code], details: err.message, metadata };
  }
  metadata.set(ERROR_ID_KEY, errorId);
  return { code: status.INTERNAL, details: `internal error ${errorId}`, metadata };
}

/** Client side: a failed call back into a DomainError when its status is one of ours;
 * otherwise the gRPC error itself (INTERNAL, DEADLINE_EXCEEDED, ...). */
export function fromGrpcError(err: ServiceError): Error {
  const code = (Object.keys(GRPC_STATUS) as ErrorCode[]).find((c) => GRPC_STATUS[c] === err.code);
  if (!code) return err;
  const field = err.metadata?.get(FIELD_KEY)[0];
  return new DomainError(code, err.details, typeof field === 'string' ? field : undefined);
}
