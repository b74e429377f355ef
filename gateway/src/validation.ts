import { invalidArgument } from '@assistants/kit';
import type { Static, TSchema } from '@sinclair/typebox';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fieldOf, messageOf } from './errors';
import { ASSIGNMENT_SCHEMAS } from './schemas/assignment';
import { CATALOG_SCHEMAS } from './schemas/catalog';
import { SHARED_SCHEMAS } from './schemas/identity';

/** Validation of values whose schema is known only once the request is read (a run's
 * parameters depend on its action, its selection on its assistant), with the same rules as
 * fastify's own (defaults filled in, unknown fields refused) and the same errors: a 400
 * naming the field as the caller wrote it. */
const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
addFormats(ajv);
for (const schema of [...SHARED_SCHEMAS, ...CATALOG_SCHEMAS, ...ASSIGNMENT_SCHEMAS]) ajv.addSchema(schema);

export type Checker<T> = (value: unknown, field: string) => T;

/** A checker of `schema`: it returns a copy of the value with its defaults, or throws
 * INVALID_ARGUMENT naming `<field>.<path>`. A union of objects told apart by a literal
 * `type` (a selection) is checked against the one its `type` names, for an error that says
 * what is wrong with it rather than that it matches none. */
export function checker<T extends TSchema>(schema: T): Checker<Static<T>> {
  const variants = discriminated(schema);
  if (variants) {
    const checks = new Map([...variants].map(([type, variant]) => [type, checker(variant)]));
    return (value, field) => {
      const type = (value as { type?: unknown } | null)?.type;
      const check = typeof type === 'string' ? checks.get(type) : undefined;
      if (!check) {
        throw invalidArgument(
          `${field}.type`,
          `${field}.type must be one of ${[...checks.keys()].map((t) => JSON.stringify(t)).join(', ')}`,
        );
      }
      return check(value, field) as Static<T>;
    };
  }
  const validate: ValidateFunction = ajv.compile(schema);
  return (value, field) => {
    // Ajv fills defaults in place: the caller's value stays as it was given.
    const copy: unknown = value === undefined ? undefined : structuredClone(value);
    if (!validate(copy)) {
      const issue = validate.errors![0];
      const where = fieldOf(issue, field);
      throw invalidArgument(where, messageOf(issue, where));
    }
    return copy as Static<T>;
  };
}

function discriminated(schema: TSchema): Map<string, TSchema> | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf) return undefined;
  const variants = new Map<string, TSchema>();
  for (const variant of anyOf) {
    const type = (variant as { properties?: { type?: { const?: unknown } } }).properties?.type?.const;
    if (typeof type !== 'string') return undefined;
    variants.set(type, variant);
  }
  return variants;
}
