import { invalidArgument } from './errors';

/** Checks of values given by callers that every service needs; each names the field at fault. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is an id (a UUID, in any case). */
export function isId(value: string): boolean {
  return UUID.test(value);
}

/** Checks an id given by a caller; "" passes when `optional`. */
export function checkId(field: string, value: string, optional = false): string {
  if (optional && value === '') return value;
  if (!isId(value)) throw invalidArgument(field, `${field} must be an id (UUID), got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** Ids given by a caller, each checked (`field[i]` names the one at fault), lower-cased, each
 * once, in their first order. */
export function checkIds(field: string, values: string[], options: { required?: boolean } = {}): string[] {
  if (options.required && values.length === 0) throw invalidArgument(field, `${field} needs at least one id`);
  return [...new Set(values.map((v, i) => checkId(`${field}[${i}]`, v)))];
}

export function checkText(field: string, value: string, options: { required?: boolean; max?: number } = {}): string {
  const text = value.trim();
  if (options.required && text === '') throw invalidArgument(field, `${field} is required`);
  const max = options.max ?? 255;
  if (text.length > max) throw invalidArgument(field, `${field} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) throw invalidArgument(field, `${field} contains control characters`);
  return text;
}

export function checkOneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    const accepted = allowed.map((a) => (a === '' ? '"" (none)' : JSON.stringify(a))).join(', ');
    throw invalidArgument(field, `${field} must be one of ${accepted}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** "" (none) or a calendar date "YYYY-MM-DD". Returns null for none. */
export function checkDate(field: string, value: string): string | null {
  if (value === '') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3])) : null;
  if (!match || !date || date.getUTCMonth() !== +match[2] - 1 || date.getUTCDate() !== +match[3]) {
    throw invalidArgument(field, `${field} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** "" (none) or a non-negative decimal with at most 2 decimals. Returns null for none, else
 * the amount as the database gives it back (numeric(_, 2): "42.5" and "042.50" are "42.50"),
 * so that an unchanged amount compares equal to the stored one. */
export function checkAmount(field: string, value: string): string | null {
  if (value === '') return null;
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) {
    throw invalidArgument(field, `${field} must be a non-negative amount such as 1250.50, got ${JSON.stringify(value)}`);
  }
  return `${match[1].replace(/^0+(?=\d)/, '')}.${(match[2] ?? '').padEnd(2, '0')}`;
}

/** "" or a mail template id, kept as given (the notification service knows templates; the
 * gateway checks a run's template with it before anything starts). */
export function checkTemplateId(field: string, value: string): string {
  const text = value.trim();
  if (text.length > 100) throw invalidArgument(field, `${field} is longer than 100 characters`);
  return text;
}
