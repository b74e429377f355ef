import { Type, type TSchema } from '@sinclair/typebox';

export const Id = Type.String({ format: 'uuid' });

/** A calendar date, or "" for none. */
export const DateOrNone = Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: 'YYYY-MM-DD, or "" for none' });

/** A non-negative amount with at most two decimals, or "" for none. */
export const AmountOrNone = Type.String({ pattern: '^(\\d{1,12}(\\.\\d{1,2})?)?$', description: 'e.g. "1250.50", or "" for none' });

/** One of a few strings; an enum rather than a union of literals, so that a wrong value
 * gets one error listing the accepted values. */
export function OneOf<T extends string>(values: readonly T[], description?: string) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], description });
}

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine-readable kind, e.g. invalid_argument, not_found' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the input at fault, e.g. body.filter.match' })),
    errorId: Type.Optional(Type.String({ description: 'for 5xx: the id to look for in the logs' })),
  },
  { $id: 'Error' },
);

const error = (description: string) => Type.Ref(ErrorBody, { description });

const SUCCESS: Record<number, string> = { 200: 'Done', 201: 'Created (its address in Location)', 204: 'Done, nothing to return' };

/** Response schemas of a route: its successes plus every error it can answer, each with
 * what it means (shown in /docs). */
export function responses<T extends Record<number, TSchema>>(ok: T) {
  const described = Object.fromEntries(
    Object.entries(ok).map(([status, schema]) => [status, { ...schema, description: schema.description ?? SUCCESS[Number(status)] }]),
  ) as T;
  return {
    ...described,
    400: error('Invalid input: `field` names the field, query parameter or path parameter at fault'),
    401: error('No credentials, or credentials refused'),
    403: error('You lack the permission this needs, or the object holds rights you do not hold'),
    404: error('No such object, or it lies outside the organisations where you hold the permission'),
    409: error('The object’s state refuses it (duplicate, externally managed, password to change first…)'),
    429: error('Too many requests, or too many failed logins: retry after Retry-After seconds'),
    500: error('Internal error: quote errorId, which is in the logs'),
    503: error('A service behind the API is unavailable: retry shortly'),
    504: error('A service behind the API did not answer in time; nothing was left running'),
  };
}

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  },
  { additionalProperties: false },
);

export const PageBody = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
};

export function Paged<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });
}

/** Where a keyset page starts: the nextCursor of the page before (offset stays 0). */
export const After = Type.Optional(
  Type.String({ maxLength: 500, description: 'the nextCursor of the previous page, to go on past offset 10,000 or walk a whole result' }),
);

/** A page that can be followed on with a cursor. */
export function KeysetPaged<T extends TSchema>(item: T) {
  return Type.Object({
    ...Paged(item).properties,
    nextCursor: Type.String({ description: 'give it as `after` for the next page; "" on the last page' }),
  });
}

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const NoContent = Type.Null({ description: 'no content' });
