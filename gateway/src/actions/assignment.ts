import type { AssignmentValues } from '@assistants/proto/gen/assignment/v1/common';
import { Type, type TSchema } from '@sinclair/typebox';
import { datesModeOf, optionOf, paymentModeOf } from '../assignment-shapes';
import { AmountOrNone, DateOrNone, Id, OneOf } from '../schemas/common';
import { DATES_MODES, OPTIONS, PAYMENT_MODES } from '../schemas/assignment';
import { defineAction, type ActionDefinition } from './action';

/** The assignment actions of the user assistant (U6-U8, U10-U13, U15), the course assistant
 * (C5-C7) and the curriculum assistant (P4). Each batch goes to the assignment service, which
 * checks the parameters (a 400 naming the field: an unknown course, an end date before the
 * start date...), applies the batch once per idempotency key and answers one result per item
 * and target (per user and course for U7). */

const Params = <P extends Record<string, TSchema>>(properties: P) => Type.Object(properties, { additionalProperties: false });

const Ids = (description: string, maxItems = 500) => Type.Array(Id, { minItems: 1, maxItems, description });
const courseIds = Ids('the courses');
const curriculumIds = Ids('the curricula');
const notifyTemplateId = Type.Optional(
  Type.String({ maxLength: 100, description: 'the mail template the learners are notified with; absent or "" for no mail' }),
);
const ignoreAudiences = Type.Optional(
  Type.Boolean({ default: false, description: 'assign even to users who share none of the audiences of the course or curriculum' }),
);
const Flag = (description: string) => Type.Optional(Type.Boolean({ default: false, description }));

/** The data of new assignments: absent dates and payment are none, the option is free. */
const assignDates = {
  startDate: Type.Optional(DateOrNone),
  objectiveDate: Type.Optional(DateOrNone),
  endDate: Type.Optional(DateOrNone),
  option: Type.Optional(OneOf(OPTIONS, 'Free (the default), Recommended or Mandatory')),
};
const assignPayment = {
  paymentMode: Type.Optional(OneOf(PAYMENT_MODES, 'none (the default), by course, by hour, not billed, prepaid account')),
  paymentCode: Type.Optional(Type.String({ maxLength: 100, description: 'free text' })),
  unitCost: Type.Optional(AmountOrNone),
};

/** What a modification sets: absent (or "unchanged") leaves a field as it is, "" clears it. */
const Kept = (description: string) =>
  Type.Optional(
    Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: `${description}: YYYY-MM-DD, "" clears it, absent leaves it` }),
  );
const changeDates = {
  startDate: Kept('start date'),
  objectiveDate: Kept('objective date'),
  endDate: Kept('end date'),
  option: Type.Optional(OneOf(['unchanged', ...OPTIONS] as const, '"unchanged" (the default) leaves it as it is')),
};
const changePayment = {
  paymentMode: Type.Optional(OneOf(['unchanged', ...PAYMENT_MODES] as const, '"unchanged" (the default) leaves it as it is')),
  paymentCode: Type.Optional(Type.String({ maxLength: 100, description: 'absent leaves it as it is, "" clears it' })),
  unitCost: Type.Optional(
    Type.String({ pattern: '^(\\d{1,12}(\\.\\d{1,2})?)?$', description: 'e.g. "1250.50"; absent leaves it as it is, "" clears it' }),
  ),
};

type DateParams = { startDate?: string; objectiveDate?: string; endDate?: string; option?: string };
type PaymentParams = { paymentMode?: string; paymentCode?: string; unitCost?: string };

/** The values of new assignments as the service takes them. */
function assignValues(p: DateParams & PaymentParams): AssignmentValues {
  return {
    startDate: p.startDate,
    objectiveDate: p.objectiveDate,
    endDate: p.endDate,
    option: optionOf(p.option as never),
    paymentMode: paymentModeOf(p.paymentMode as never),
    paymentCode: p.paymentCode,
    unitCost: p.unitCost,
  };
}

/** The same for a modification: absent stays absent (unchanged). */
const changeValues = assignValues;

/** C5 and P4: how the members of the list are enrolled. */
const enrolmentParams = {
  restrictVisibility: Flag('only the members of the list(s) see it'),
  enrol: Flag('enrol the members of the list(s): those in it now, and those who enter it later'),
  option: Type.Optional(OneOf(OPTIONS, 'the option of the enrolments: Free (the default), Recommended or Mandatory')),
  datesMode: Type.Optional(OneOf(DATES_MODES, 'none (the default); fixed dates; or delays in days from the day a user entered the list')),
  startDate: Type.Optional(DateOrNone),
  objectiveDate: Type.Optional(DateOrNone),
  endDate: Type.Optional(DateOrNone),
  startDelayDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500 })),
  objectiveDelayDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500 })),
  endDelayDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500 })),
  effectiveImmediately: Flag('the dates also apply now to the users already in the list (their new and existing assignments)'),
};

type EnrolmentParams = {
  restrictVisibility?: boolean;
  enrol?: boolean;
  option?: string;
  datesMode?: string;
  startDate?: string;
  objectiveDate?: string;
  endDate?: string;
  startDelayDays?: number;
  objectiveDelayDays?: number;
  endDelayDays?: number;
  effectiveImmediately?: boolean;
  applyOptionToCourses?: boolean;
  carryDatesToCourses?: boolean;
};

function enrolment(p: EnrolmentParams) {
  return {
    restrictVisibility: p.restrictVisibility ?? false,
    enrol: p.enrol ?? false,
    enrolment: {
      option: optionOf(p.option as never),
      datesMode: datesModeOf(p.datesMode as never),
      startDate: p.startDate ?? '',
      objectiveDate: p.objectiveDate ?? '',
      endDate: p.endDate ?? '',
      startDelayDays: p.startDelayDays,
      objectiveDelayDays: p.objectiveDelayDays,
      endDelayDays: p.endDelayDays,
      effectiveImmediately: p.effectiveImmediately ?? false,
      applyOptionToCourses: p.applyOptionToCourses ?? false,
      carryDatesToCourses: p.carryDatesToCourses ?? false,
    },
  };
}

export const assignmentActions: ActionDefinition[] = [
  defineAction({
    id: 'U6',
    assistant: 'users',
    title: 'Tutor for courses',
    params: Params({
      courseIds,
      listId: Type.String({ format: 'uuid', description: 'the list whose learners they tutor on those courses' }),
    }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (await assignment.tutors.assignTutors({ batch, userIds, courseIds: p.courseIds, listId: p.listId })).result!,
  }),
  defineAction({
    id: 'U7',
    assistant: 'users',
    title: 'Assign courses',
    params: Params({ courseIds, notifyTemplateId, ignoreAudiences, ...assignDates, ...assignPayment }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.assignCourses({
          batch,
          userIds,
          courseIds: p.courseIds,
          values: assignValues(p),
          ignoreAudiences: p.ignoreAudiences ?? false,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U8',
    assistant: 'users',
    title: 'Modify course assignment data',
    params: Params({ courseIds, notifyTemplateId, ...changeDates, ...changePayment }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.updateCourseAssignments({
          batch,
          userIds,
          courseIds: p.courseIds,
          values: changeValues(p),
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U10',
    assistant: 'users',
    title: 'Remove courses',
    params: Params({ courseIds, notifyTemplateId }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.removeCourseAssignments({
          batch,
          userIds,
          courseIds: p.courseIds,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U11',
    assistant: 'users',
    title: 'Reset certificates',
    params: Params({ courseIds, notifyTemplateId }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.certificates.reissueCertificates({
          batch,
          userIds,
          courseIds: p.courseIds,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U12',
    assistant: 'users',
    title: 'Assign curricula',
    params: Params({
      curriculumIds,
      ignoreAudiences,
      carryDatesToCourses: Flag("the curriculum's dates and option also go onto its courses' assignments"),
      ...assignDates,
      notifyTemplateId,
    }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.assignCurricula({
          batch,
          userIds,
          curriculumIds: p.curriculumIds,
          values: assignValues(p),
          ignoreAudiences: p.ignoreAudiences ?? false,
          carryDatesToCourses: p.carryDatesToCourses ?? false,
          carryOptionToCourses: p.carryDatesToCourses ?? false,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U13',
    assistant: 'users',
    title: 'Modify curriculum assignment data',
    params: Params({
      curriculumIds,
      carryDatesToCourses: Flag("the curriculum's dates and option, once changed, also go onto its courses' assignments"),
      ...changeDates,
      notifyTemplateId,
    }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.updateCurriculumAssignments({
          batch,
          userIds,
          curriculumIds: p.curriculumIds,
          values: changeValues(p),
          carryDatesToCourses: p.carryDatesToCourses ?? false,
          carryOptionToCourses: p.carryDatesToCourses ?? false,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U15',
    assistant: 'users',
    title: 'Remove curricula',
    params: Params({
      curriculumIds,
      removeCourses: Flag('also remove the course assignments that came with the curriculum alone'),
      notifyTemplateId,
    }),
    apply: async ({ assignment }, userIds, p, batch) =>
      (
        await assignment.assignments.removeCurriculumAssignments({
          batch,
          userIds,
          curriculumIds: p.curriculumIds,
          removeCourses: p.removeCourses ?? false,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'C5',
    assistant: 'courses',
    title: 'Add access property',
    params: Params({ listIds: Ids('the lists', 100), ...enrolmentParams }),
    apply: async ({ assignment }, courseIds, p, batch) =>
      (await assignment.access.addCourseAccessProperties({ batch, courseIds, listIds: p.listIds, ...enrolment(p) })).result!,
  }),
  defineAction({
    id: 'C6',
    assistant: 'courses',
    title: 'Modify assignment data',
    params: Params({ userIds: Ids('the learners whose assignments change', 10_000), ...changeDates, ...changePayment }),
    apply: async ({ assignment }, courseIds, p, batch) =>
      (await assignment.assignments.updateLearnerAssignments({ batch, courseIds, userIds: p.userIds, values: changeValues(p) })).result!,
  }),
  defineAction({
    id: 'C7',
    assistant: 'courses',
    title: 'Assign learners',
    params: Params({ userIds: Ids('the learners', 10_000), ...assignDates, ...assignPayment, notifyTemplateId }),
    apply: async ({ assignment }, courseIds, p, batch) =>
      (
        await assignment.assignments.assignLearners({
          batch,
          courseIds,
          userIds: p.userIds,
          values: assignValues(p),
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'P4',
    assistant: 'curricula',
    title: 'Add access property',
    params: Params({
      listId: Id,
      ...enrolmentParams,
      applyOptionToCourses: Flag("the enrolments' option also goes onto the curriculum's courses (else Free)"),
      carryDatesToCourses: Flag("the enrolments' dates also go onto the curriculum's courses"),
    }),
    apply: async ({ assignment }, curriculumIds, p, batch) =>
      (await assignment.access.addCurriculumAccessProperties({ batch, curriculumIds, listId: p.listId, ...enrolment(p) })).result!,
  }),
];
