import { invalidArgument } from '@assistants/kit';

export const MATCH_MODES = ['', 'all', 'any'] as const;
export const COURSE_TYPES = ['aicc_scorm', 'aicc_only', 'instructor_led'] as const;
export const PROTOCOLS = ['aicc_hacp', 'scorm_api'] as const;
export const CMI_MODES = ['allowed', 'not_allowed', 'suspend'] as const;
/** The largest window a course opens in, in pixels (either side). */
export const MAX_WINDOW_PX = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(value: string): boolean {
  return UUID.test(value);
}

/** Checks an id given by a caller; "" passes when `optional`. */
export function checkId(field: string, value: string, optional = false): string {
  if (optional && value === '') return value;
  if (!isId(value)) throw invalidArgument(field, `${field} must be an id (UUID), got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** Ids given by a caller, lower-cased, each once, in their first order. */
export function checkIds(field: string, values: string[]): string[] {
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

/** A unique id (course, lesson, curriculum, competency code): required, no spaces. */
export function checkCode(field: string, value: string): string {
  const code = checkText(field, value, { required: true, max: 100 });
  if (/\s/.test(code)) throw invalidArgument(field, `${field} must not contain spaces`);
  return code;
}

export function checkOneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    const accepted = allowed.map((a) => (a === '' ? '"" (none)' : JSON.stringify(a))).join(', ');
    throw invalidArgument(field, `${field} must be one of ${accepted}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A window side in pixels: positive, at most MAX_WINDOW_PX. */
export function checkPixels(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_WINDOW_PX) {
    throw invalidArgument(field, `${field} must be a number of pixels between 1 and ${MAX_WINDOW_PX}, got ${value}`);
  }
  return value;
}

/** Sequential lessons and prerequisites are never both yes and never both no: given both,
 * they must differ; given one, the other is its opposite; given neither, both stay. */
export function sequentialAndPrerequisites(
  sequentialLessons: boolean | undefined,
  prerequisites: boolean | undefined,
): { sequentialLessons?: boolean; prerequisites?: boolean } {
  if (sequentialLessons !== undefined && prerequisites !== undefined) {
    if (sequentialLessons === prerequisites) {
      throw invalidArgument(
        'sequentialLessons',
        `sequentialLessons and prerequisites are incompatible: they cannot both be ${sequentialLessons ? 'yes' : 'no'}`,
      );
    }
    return { sequentialLessons, prerequisites };
  }
  if (sequentialLessons !== undefined) return { sequentialLessons, prerequisites: !sequentialLessons };
  if (prerequisites !== undefined) return { sequentialLessons: !prerequisites, prerequisites };
  return {};
}
