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

const errorRef = Type.Ref(ErrorBody);

/** Response schemas of a route: its successes plus every error it can answer. */
export function responses<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, 400: errorRef, 401: errorRef, 403: errorRef, 404: errorRef, 409: errorRef, 429: errorRef, 500: errorRef, 503: errorRef };
}

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

export const PageBody = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
};

export function Paged<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });
}

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const NoContent = Type.Null({ description: 'no content' });
