import { DomainError } from '@assistants/kit';
import { AssignmentOption, DatesMode, PaymentMode } from '@assistants/proto/gen/assignment/v1/common';
import { addDays, checkEnrolment, datesFor } from '../src/access-properties';
import { applyChanges, checkUnitCost, dataChanges, dataToAssign, datesProblem } from '../src/values';

/** The pure rules of assignment data: what a request means, and which field is at fault. */

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).field;
  }
  throw new Error('expected a refusal');
};

const none = { option: AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED };

it('reads the data of new assignments: none and Free by default', () => {
  expect(dataToAssign(undefined, 'course')).toEqual({
    startDate: null,
    objectiveDate: null,
    endDate: null,
    option: 'free',
    paymentMode: '',
    paymentCode: '',
    unitCost: null,
  });
  expect(
    dataToAssign(
      { ...none, startDate: '2027-01-01', endDate: '2027-01-01', paymentMode: PaymentMode.PAYMENT_MODE_PREPAID_ACCOUNT, unitCost: '007.5' },
      'course',
    ),
  ).toMatchObject({ startDate: '2027-01-01', endDate: '2027-01-01', paymentMode: 'prepaid_account', unitCost: '7.50' });
});

it('names the field at fault', () => {
  expect(fieldOf(() => dataToAssign({ ...none, startDate: '2027-02-02', endDate: '2027-02-01' }, 'course'))).toBe('endDate');
  expect(fieldOf(() => dataToAssign({ ...none, objectiveDate: '2027-03-01', endDate: '2027-02-01' }, 'course'))).toBe('objectiveDate');
  expect(fieldOf(() => dataToAssign({ ...none, startDate: '2027-13-01' }, 'course'))).toBe('startDate');
  expect(fieldOf(() => dataToAssign({ ...none, unitCost: '1.234' }, 'course'))).toBe('unitCost');
  expect(fieldOf(() => dataToAssign({ ...none, option: 9 as AssignmentOption }, 'course'))).toBe('option');
  expect(fieldOf(() => dataToAssign({ ...none, paymentMode: PaymentMode.PAYMENT_MODE_BY_HOUR }, 'curriculum'))).toBe('paymentMode');
  expect(fieldOf(() => checkUnitCost('unitCost', '-0.01'))).toBe('unitCost');
});

it('reads a modification as the fields given, "" clearing one', () => {
  expect(dataChanges({ ...none, endDate: '', paymentCode: ' PO ' }, 'course')).toEqual({ endDate: null, paymentCode: 'PO' });
  const current = { startDate: '2027-01-01', objectiveDate: null, endDate: '2027-06-30', option: 'free' as const };
  expect(applyChanges(current, { endDate: '2027-06-30', option: 'mandatory' })).toEqual({
    next: { ...current, option: 'mandatory' },
    changed: ['option'],
  });
  expect(datesProblem(applyChanges(current, { startDate: '2027-07-01' }).next)).toEqual({
    field: 'endDate',
    message: 'endDate is before startDate',
  });
});

it('checks an access property’s dates: fixed or delays, in order', () => {
  const enrolment = (e: object) => ({
    option: AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED,
    datesMode: DatesMode.DATES_MODE_UNSPECIFIED,
    startDate: '',
    objectiveDate: '',
    endDate: '',
    effectiveImmediately: false,
    applyOptionToCourses: false,
    carryDatesToCourses: false,
    ...e,
  });
  expect(
    checkEnrolment(enrolment({ datesMode: DatesMode.DATES_MODE_RELATIVE, startDelayDays: 0, endDelayDays: 30 }), 'course'),
  ).toMatchObject({
    datesMode: 'relative',
    startDelayDays: 0,
    objectiveDelayDays: null,
    endDelayDays: 30,
  });
  expect(
    fieldOf(() =>
      checkEnrolment(enrolment({ datesMode: DatesMode.DATES_MODE_RELATIVE, startDelayDays: 5, objectiveDelayDays: 2 }), 'course'),
    ),
  ).toBe('objectiveDelayDays');
  expect(fieldOf(() => checkEnrolment(enrolment({ datesMode: DatesMode.DATES_MODE_FIXED, startDelayDays: 5 }), 'course'))).toBe(
    'startDelayDays',
  );
  expect(fieldOf(() => checkEnrolment(enrolment({ startDate: '2027-01-01' }), 'course'))).toBe('startDate');
  expect(fieldOf(() => checkEnrolment(enrolment({ applyOptionToCourses: true }), 'course'))).toBe('applyOptionToCourses');
});

it('counts delays from the UTC day a user entered the list', () => {
  const relative = {
    dates_mode: 'relative' as const,
    start_date: null,
    objective_date: null,
    end_date: null,
    start_delay_days: 0,
    objective_delay_days: null,
    end_delay_days: 365,
  };
  expect(datesFor(relative, '2027-12-31T23:59:59+00:00')).toEqual({ startDate: '2027-12-31', objectiveDate: null, endDate: '2028-12-30' });
  expect(datesFor(relative, '2028-01-01T00:30:00+01:00')).toEqual({ startDate: '2027-12-31', objectiveDate: null, endDate: '2028-12-30' });
  expect(datesFor({ ...relative, dates_mode: 'none' }, '2027-01-01T00:00:00Z')).toBeNull();
  expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
});
