import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { currentCorrelationId } from './context';

export type { Logger };

/** Keys whose values never reach a log line, at any depth of a logged object (compared
 * without case, "_" and "-": passwordHash, password_hash, x-service-token...). */
const SECRET_KEYS = new Set(
  ['password', 'newPassword', 'currentPassword', 'passwordHash', 'token', 'serviceToken', 'authorization', 'cookie', 'secret', 'body'].map(
    normalise,
  ),
);

function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

const MAX_DEPTH = 10;

/** A copy of `value` with the value of every secret key replaced, however deep, in plain
 * objects and arrays. Instances of classes (errors, requests) are left to pino's
 * serializers, which pick what they log. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEYS.has(normalise(key)) || /token$/i.test(key) ? '[redacted]' : redactSecrets(item, depth + 1);
  }
  return copy;
}

/** Logs on stdout, one JSON line per event, with the service name and the correlation id of
 * the request, run or event being handled; readable lines instead when stdout is a terminal
 * (npm start) or LOG_FORMAT=pretty, JSON when LOG_FORMAT=json. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
    // Serialised after the formatter: fastify's request and reply objects.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  const format = process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty') return pino(options, pretty({ colorize: true, sync: true, ignore: 'pid,hostname' }));
  return pino(options);
}
