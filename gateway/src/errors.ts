import { randomUUID } from 'node:crypto';
import type { ServiceError } from '@grpc/grpc-js';
import { DomainError, type ErrorCode } from '@assistants/kit';
import type { FastifyError, FastifyInstance } from 'fastify';

/** gRPC and domain error kinds to HTTP, in one place. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  DEADLINE_EXCEEDED: 504,
  UNAVAILABLE: 503,
  ABORTED: 409,
};

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  errorId?: string;
}

export interface ValidationIssue {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Where the bad value is, named as the caller wrote it: "filter.match" in the body (as
 * the services name fields), "query.limit", "params.id" elsewhere. */
export function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const path = issue.instancePath.split('/').filter(Boolean);
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return [context === 'body' ? undefined : context, ...path].filter(Boolean).join('.') || (context ?? 'body');
}

export function messageOf(issue: ValidationIssue, field: string): string {
  if (issue.params.additionalProperty) return `${field} is not a known field`;
  if (issue.params.missingProperty) return `${field} is required`;
  const allowed = issue.params.allowedValues;
  if (Array.isArray(allowed)) return `${field} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${field} ${issue.message ?? 'is invalid'}`;
}

/** One error handler: a 4xx names what is wrong (and the field when there is one); a 5xx
 * says nothing of the internals and gives an error id that is in the logs. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DomainError | ServiceError, request, reply) => {
    const validation = (err as FastifyError).validation as ValidationIssue[] | undefined;
    if (validation?.length) {
      const field = fieldOf(validation[0], (err as FastifyError).validationContext);
      return reply.code(400).send({ error: 'invalid_argument', message: messageOf(validation[0], field), field } satisfies ErrorBody);
    }
    if (err instanceof DomainError) {
      const body: ErrorBody = { error: err.code.toLowerCase(), message: err.message };
      if (err.field) body.field = err.field;
      // A service that could not be reached or answered too late: the caller reads which,
      // the log keeps the transport's own words (host, port, reason).
      if (err.cause) request.log.warn({ err: err.cause, code: err.code }, 'upstream call failed');
      return reply.code(HTTP_STATUS[err.code]).send(body);
    }
    const statusCode = (err as FastifyError).statusCode;
    if (statusCode && statusCode >= 400 && statusCode < 500) {
      // Fastify's own refusals: body too large, bad JSON, unsupported media type, rate limit.
      const error = statusCode === 429 ? 'rate_limited' : ((err as FastifyError).code?.toLowerCase() ?? 'bad_request');
      return reply.code(statusCode).send({ error, message: err.message });
    }
    const errorId = randomUUID();
    request.log.error({ err, errorId }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: `internal error ${errorId}`, errorId } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
