import { invalidArgument } from '@assistants/kit';
import { AssignmentOption, PaymentMode, type AssignmentValues } from '@assistants/proto/gen/assignment/v1/common';

/** An assignment's data as stored: dates are calendar days "YYYY-MM-DD" (null for none),
 * options and payment modes lower-case words, the unit cost as numeric(14, 2) prints it. */
export type Option = 'free' | 'recommended' | 'mandatory';
export type PaymentModeName = '' | 'by_course' | 'by_hour' | 'not_billed' | 'prepaid_account';

export interface AssignmentData {
  startDate: string | null;
  objectiveDate: string | null;
  endDate: string | null;
  option: Option;
  paymentMode: PaymentModeName;
  paymentCode: string;
  unitCost: string | null;
}

/** What a modification sets; an absent field stays as it is. */
export type DataChanges = Partial<AssignmentData>;

/** The fields of AssignmentData as events name them (changed_fields). */
export const FIELD_NAMES: Record<keyof AssignmentData, string> = {
  startDate: 'start_date',
  objectiveDate: 'objective_date',
  endDate: 'end_date',
  option: 'option',
  paymentMode: 'payment_mode',
  paymentCode: 'payment_code',
  unitCost: 'unit_cost',
};

const OPTIONS: Record<Option, AssignmentOption> = {
  free: AssignmentOption.ASSIGNMENT_OPTION_FREE,
  recommended: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
  mandatory: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
};

const PAYMENT_MODES: Record<PaymentModeName, PaymentMode> = {
  '': PaymentMode.PAYMENT_MODE_UNSPECIFIED,
  by_course: PaymentMode.PAYMENT_MODE_BY_COURSE,
  by_hour: PaymentMode.PAYMENT_MODE_BY_HOUR,
  not_billed: PaymentMode.PAYMENT_MODE_NOT_BILLED,
  prepaid_account: PaymentMode.PAYMENT_MODE_PREPAID_ACCOUNT,
};

export const optionToProto = (option: Option): AssignmentOption => OPTIONS[option];
export const paymentModeToProto = (mode: PaymentModeName): PaymentMode => PAYMENT_MODES[mode];

/** The option a request names; undefined for UNSPECIFIED. */
export function optionOf(field: string, value: AssignmentOption | undefined): Option | undefined {
  if (value === undefined || value === AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED) return undefined;
  const name = (Object.keys(OPTIONS) as Option[]).find((o) => OPTIONS[o] === value);
  if (!name) throw invalidArgument(field, `${field} must be free, recommended or mandatory`);
  return name;
}

function paymentModeOf(field: string, value: PaymentMode): PaymentModeName {
  const name = (Object.keys(PAYMENT_MODES) as PaymentModeName[]).find((m) => PAYMENT_MODES[m] === value);
  if (name === undefined) throw invalidArgument(field, `${field} must be by_course, by_hour, not_billed or prepaid_account`);
  return name;
}

/** "" (none) or a real calendar date "YYYY-MM-DD"; null for none. */
export function checkDate(field: string, value: string): string | null {
  if (value === '') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3])) : null;
  if (!match || !date || date.getUTCMonth() !== +match[2] - 1 || date.getUTCDate() !== +match[3]) {
    throw invalidArgument(field, `${field} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** "" (none) or a non-negative amount with at most two decimals, written as the database
 * gives it back ("42.5" → "42.50"), so that an unchanged cost compares equal. */
export function checkUnitCost(field: string, value: string): string | null {
  const text = value.trim();
  if (text === '') return null;
  if (/^-/.test(text)) throw invalidArgument(field, `${field} must not be negative`);
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw invalidArgument(field, `${field} must be an amount like 1250.50 (at most 12 digits and 2 decimals)`);
  return `${BigInt(match[1]).toString()}.${(match[2] ?? '').padEnd(2, '0')}`;
}

function checkPaymentCode(field: string, value: string): string {
  const text = value.trim();
  if (text.length > 100) throw invalidArgument(field, `${field} is longer than 100 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(text)) throw invalidArgument(field, `${field} contains control characters`);
  return text;
}

/** Null when the dates are in order (start ≤ objective ≤ end, where given), else the field
 * at fault and why. */
export function datesProblem(
  d: Pick<AssignmentData, 'startDate' | 'objectiveDate' | 'endDate'>,
): { field: string; message: string } | null {
  if (d.startDate && d.endDate && d.endDate < d.startDate) return { field: 'endDate', message: 'endDate is before startDate' };
  if (d.objectiveDate && d.startDate && d.objectiveDate < d.startDate) {
    return { field: 'objectiveDate', message: 'objectiveDate is before startDate' };
  }
  if (d.objectiveDate && d.endDate && d.objectiveDate > d.endDate)
    return { field: 'objectiveDate', message: 'objectiveDate is after endDate' };
  return null;
}

function requireDatesInOrder(d: Pick<AssignmentData, 'startDate' | 'objectiveDate' | 'endDate'>): void {
  const problem = datesProblem(d);
  if (problem) throw invalidArgument(problem.field, problem.message);
}

function refusePayment(values: AssignmentValues | undefined): void {
  for (const field of ['paymentMode', 'paymentCode', 'unitCost'] as const) {
    if (values?.[field] !== undefined) throw invalidArgument(field, `${field} does not apply to curriculum assignments`);
  }
}

/** The data of new assignments: absent fields are none, the option FREE by default. */
export function dataToAssign(values: AssignmentValues | undefined, kind: 'course' | 'curriculum'): AssignmentData {
  if (kind === 'curriculum') refusePayment(values);
  const data: AssignmentData = {
    startDate: checkDate('startDate', values?.startDate ?? ''),
    objectiveDate: checkDate('objectiveDate', values?.objectiveDate ?? ''),
    endDate: checkDate('endDate', values?.endDate ?? ''),
    option: optionOf('option', values?.option) ?? 'free',
    paymentMode: paymentModeOf('paymentMode', values?.paymentMode ?? PaymentMode.PAYMENT_MODE_UNSPECIFIED),
    paymentCode: checkPaymentCode('paymentCode', values?.paymentCode ?? ''),
    unitCost: checkUnitCost('unitCost', values?.unitCost ?? ''),
  };
  requireDatesInOrder(data);
  return data;
}

/** What a modification changes: only the fields given ("" clears a date, code or cost). The
 * dates given are checked against each other here; against the dates each assignment keeps,
 * per assignment (INVALID_DATES). */
export function dataChanges(values: AssignmentValues | undefined, kind: 'course' | 'curriculum'): DataChanges {
  if (kind === 'curriculum') refusePayment(values);
  const changes: DataChanges = {};
  if (values?.startDate !== undefined) changes.startDate = checkDate('startDate', values.startDate);
  if (values?.objectiveDate !== undefined) changes.objectiveDate = checkDate('objectiveDate', values.objectiveDate);
  if (values?.endDate !== undefined) changes.endDate = checkDate('endDate', values.endDate);
  const option = optionOf('option', values?.option);
  if (option) changes.option = option;
  if (values?.paymentMode !== undefined) changes.paymentMode = paymentModeOf('paymentMode', values.paymentMode);
  if (values?.paymentCode !== undefined) changes.paymentCode = checkPaymentCode('paymentCode', values.paymentCode);
  if (values?.unitCost !== undefined) changes.unitCost = checkUnitCost('unitCost', values.unitCost);
  requireDatesInOrder({
    startDate: changes.startDate ?? null,
    objectiveDate: changes.objectiveDate ?? null,
    endDate: changes.endDate ?? null,
  });
  return changes;
}

/** `current` with `changes` applied, and the names (FIELD_NAMES) of the fields that differ. */
export function applyChanges<T extends Partial<AssignmentData>>(current: T, changes: DataChanges): { next: T; changed: string[] } {
  const next = { ...current };
  const changed: string[] = [];
  for (const key of Object.keys(changes) as (keyof AssignmentData)[]) {
    if (!(key in current) || changes[key] === undefined) continue;
    if (current[key] !== changes[key]) {
      (next as Record<string, unknown>)[key] = changes[key];
      changed.push(FIELD_NAMES[key]);
    }
  }
  return { next, changed };
}
