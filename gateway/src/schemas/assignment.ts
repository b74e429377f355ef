import { Type } from '@sinclair/typebox';
import { Id, OneOf } from './common';

export const OPTIONS = ['free', 'recommended', 'mandatory'] as const;
export const PAYMENT_MODES = ['none', 'by_course', 'by_hour', 'not_billed', 'prepaid_account'] as const;
export const DATES_MODES = ['none', 'fixed', 'relative'] as const;

const DateOrEmpty = Type.String({ description: 'YYYY-MM-DD, or "" for none' });
const Instant = Type.String({ description: 'RFC 3339' });

export const CourseAssignment = Type.Object(
  {
    userId: Id,
    courseId: Id,
    startDate: DateOrEmpty,
    objectiveDate: DateOrEmpty,
    endDate: DateOrEmpty,
    option: OneOf(OPTIONS),
    paymentMode: OneOf(PAYMENT_MODES),
    paymentCode: Type.String(),
    unitCost: Type.String({ description: 'e.g. "12.50", or "" for none' }),
    direct: Type.Boolean({ description: 'assigned directly (U7, C7, an import)' }),
    curriculumIds: Type.Array(Id, { description: 'the curricula it came with' }),
    accessPropertyIds: Type.Array(Id, { description: 'the access properties it came from' }),
    assignedAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'CourseAssignment' },
);

export const CurriculumAssignment = Type.Object(
  {
    userId: Id,
    curriculumId: Id,
    startDate: DateOrEmpty,
    objectiveDate: DateOrEmpty,
    endDate: DateOrEmpty,
    option: OneOf(OPTIONS),
    direct: Type.Boolean(),
    accessPropertyIds: Type.Array(Id),
    assignedAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'CurriculumAssignment' },
);

export const Certificate = Type.Object(
  {
    userId: Id,
    courseId: Id,
    templateId: Type.String(),
    issuedAt: Instant,
    reissueCount: Type.Integer({ description: 'how many times it was issued again (U11)' }),
  },
  { $id: 'Certificate' },
);

export const Tutorship = Type.Object({ tutorId: Id, courseId: Id, listId: Id, assignedAt: Instant }, { $id: 'Tutorship' });

export const UserAssignments = Type.Object(
  {
    courseAssignments: Type.Array(Type.Ref(CourseAssignment)),
    curriculumAssignments: Type.Array(Type.Ref(CurriculumAssignment)),
    certificates: Type.Array(Type.Ref(Certificate)),
    tutorships: Type.Array(Type.Ref(Tutorship)),
  },
  { $id: 'UserAssignments' },
);

export const AccessProperty = Type.Object(
  {
    id: Id,
    objectType: OneOf(['course', 'curriculum'] as const),
    objectId: Id,
    listId: Id,
    restrictVisibility: Type.Boolean(),
    enrol: Type.Boolean(),
    enrolment: Type.Optional(
      Type.Object({
        option: OneOf(OPTIONS),
        datesMode: OneOf(DATES_MODES),
        startDate: DateOrEmpty,
        objectiveDate: DateOrEmpty,
        endDate: DateOrEmpty,
        startDelayDays: Type.Optional(Type.Integer()),
        objectiveDelayDays: Type.Optional(Type.Integer()),
        endDelayDays: Type.Optional(Type.Integer()),
        effectiveImmediately: Type.Boolean(),
        applyOptionToCourses: Type.Boolean(),
        carryDatesToCourses: Type.Boolean(),
      }),
    ),
    createdBy: Id,
    createdAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'AccessProperty' },
);

export const ASSIGNMENT_SCHEMAS = [CourseAssignment, CurriculumAssignment, Certificate, Tutorship, UserAssignments, AccessProperty];
