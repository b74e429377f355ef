import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export class ConfigError extends Error {}

/** Variables whose values an error message must not repeat (URLs may hold a password). */
const SECRET = /PASSWORD|SECRET|TOKEN|KEY|URL/;

/** Reads a service's configuration from environment variables, once, at boot. The schema's
 * keys are the variable names; defaults and conversions (text to number or boolean) come
 * from the schema. A missing or bad value throws a ConfigError naming every variable at
 * fault, and the service's main stops with that message. */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, raw));
  const problems = [...Value.Errors(schema, value)].map((e) => {
    const name = e.path.replace(/^\//, '') || '(configuration)';
    const given = !(name in raw) ? ' (not set)' : SECRET.test(name) ? '' : ` (given: ${JSON.stringify(raw[name])})`;
    return `${name}: ${e.message}${given}`;
  });
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  return value as Static<T>;
}
