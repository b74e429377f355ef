import { AssignmentOption, DatesMode, ObjectType, PaymentMode } from '@assistants/proto/gen/assignment/v1/common';
import type {
  AccessProperty,
  Certificate,
  CourseAssignment,
  CurriculumAssignment,
  Tutorship,
} from '@assistants/proto/gen/assignment/v1/common';
import type { DATES_MODES, OPTIONS, PAYMENT_MODES } from './schemas/assignment';

/** The assignment service's messages as the HTTP API shows them (enums as words) and the
 * words of the HTTP parameters as the service takes them. */

type OptionWord = (typeof OPTIONS)[number];
type PaymentWord = (typeof PAYMENT_MODES)[number];
type DatesWord = (typeof DATES_MODES)[number];

const OPTION_WORDS: Record<OptionWord, AssignmentOption> = {
  free: AssignmentOption.ASSIGNMENT_OPTION_FREE,
  recommended: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
  mandatory: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
};
const PAYMENT_WORDS: Record<PaymentWord, PaymentMode> = {
  none: PaymentMode.PAYMENT_MODE_UNSPECIFIED,
  by_course: PaymentMode.PAYMENT_MODE_BY_COURSE,
  by_hour: PaymentMode.PAYMENT_MODE_BY_HOUR,
  not_billed: PaymentMode.PAYMENT_MODE_NOT_BILLED,
  prepaid_account: PaymentMode.PAYMENT_MODE_PREPAID_ACCOUNT,
};
const DATES_WORDS: Record<DatesWord, DatesMode> = {
  none: DatesMode.DATES_MODE_UNSPECIFIED,
  fixed: DatesMode.DATES_MODE_FIXED,
  relative: DatesMode.DATES_MODE_RELATIVE,
};

const wordOf = <W extends string, E>(words: Record<W, E>, value: E): W => (Object.keys(words) as W[]).find((w) => words[w] === value)!;

/** A word of the HTTP API as the service's enum; "unchanged" and absent as UNSPECIFIED. */
export const optionOf = (word: OptionWord | 'unchanged' | undefined): AssignmentOption =>
  word && word !== 'unchanged' ? OPTION_WORDS[word] : AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED;
/** "unchanged" and absent as absent; "none" as no payment mode. */
export const paymentModeOf = (word: PaymentWord | 'unchanged' | undefined): PaymentMode | undefined =>
  word && word !== 'unchanged' ? PAYMENT_WORDS[word] : undefined;
export const datesModeOf = (word: DatesWord | undefined): DatesMode => DATES_WORDS[word ?? 'none'];

export function toHttpCourseAssignment(a: CourseAssignment) {
  return { ...a, option: wordOf(OPTION_WORDS, a.option), paymentMode: wordOf(PAYMENT_WORDS, a.paymentMode) };
}

export function toHttpCurriculumAssignment(a: CurriculumAssignment) {
  return { ...a, option: wordOf(OPTION_WORDS, a.option) };
}

export const toHttpCertificate = (c: Certificate) => c;
export const toHttpTutorship = (t: Tutorship) => t;

export function toHttpAccessProperty(p: AccessProperty) {
  return {
    ...p,
    objectType: p.objectType === ObjectType.OBJECT_TYPE_CURRICULUM ? ('curriculum' as const) : ('course' as const),
    enrolment: p.enrolment && {
      ...p.enrolment,
      option: wordOf(OPTION_WORDS, p.enrolment.option),
      datesMode: wordOf(DATES_WORDS, p.enrolment.datesMode),
    },
  };
}
