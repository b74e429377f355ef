import { status, type ServiceError } from '@grpc/grpc-js';
import { DomainError, fromGrpcError, invalidArgument, notFound, toGrpcError } from '../src/errors';

function asServiceError(payload: ReturnType<typeof toGrpcError>): ServiceError {
  return Object.assign(new Error(payload.details), payload) as ServiceError;
}

describe('domain errors over gRPC', () => {
  it('keep their kind, message and field across the wire', () => {
    const payload = toGrpcError(invalidArgument('filter.match', 'match must be "all" or "any"'), 'id-1');
    expect(payload.code).toBe(status.INVALID_ARGUMENT);
    const back = fromGrpcError(asServiceError(payload));
    expect(back).toBeInstanceOf(DomainError);
    expect(back).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter.match', message: 'match must be "all" or "any"' });
    expect(fromGrpcError(asServiceError(toGrpcError(notFound('no user u1'), 'x')))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('hide anything else behind an error id', () => {
    const payload = toGrpcError(new Error('relation "users" does not exist'), 'err-42');
    expect(payload.code).toBe(status.INTERNAL);
    expect(payload.details).toBe('internal error err-42');
    expect(payload.metadata.get('x-error-id')).toEqual(['err-42']);
    expect(fromGrpcError(asServiceError(payload))).not.toBeInstanceOf(DomainError);
  });
});
