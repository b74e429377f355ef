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

  it('tell a transaction rolled back by a deadlock or a serialization failure as ABORTED (the call can be made again)', () => {
    for (const code of ['40P01', '40001']) {
      const pgError = Object.assign(new Error('deadlock detected'), { code });
      const payload = toGrpcError(pgError, 'err-7');
      expect(payload.code).toBe(status.ABORTED);
      expect(payload.details).not.toMatch(/deadlock/); // PostgreSQL's text names relations and processes
      expect(fromGrpcError(asServiceError(payload))).toMatchObject({ code: 'ABORTED' });
    }
    expect(toGrpcError(Object.assign(new Error('duplicate key'), { code: '23505' }), 'err-8').code).toBe(status.INTERNAL);
  });

  it('hide anything else behind an error id', () => {
    const payload = toGrpcError(new Error('relation "users" does not exist'), 'err-42');
    expect(payload.code).toBe(status.INTERNAL);
    expect(payload.details).toBe('internal error err-42');
    expect(payload.metadata.get('x-error-id')).toEqual(['err-42']);
    expect(fromGrpcError(asServiceError(payload))).not.toBeInstanceOf(DomainError);
  });
});
