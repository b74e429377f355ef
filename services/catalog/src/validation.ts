import { checkText, invalidArgument } from '@assistants/kit';

export const MATCH_MODES = ['', 'all', 'any'] as const;
export const COURSE_TYPES = ['aicc_scorm', 'aicc_only', 'instructor_led'] as const;
export const PROTOCOLS = ['aicc_hacp', 'scorm_api'] as const;
export const CMI_MODES = ['allowed', 'not_allowed', 'suspend'] as const;
/** The largest window a course opens in, in pixels (either side). */
export const MAX_WINDOW_PX = 10_000;

/** A unique id (course, lesson, curriculum, competency code): required, no spaces. */
export function checkCode(field: string, value: string): string {
  const code = checkText(field, value, { required: true, max: 100 });
  if (/\s/.test(code)) throw invalidArgument(field, `${field} must not contain spaces`);
  return code;
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
