import type { Column, KindDeclaration, KindOption } from '../engine/columns';

/** The option of an assignment, as the assistants name it (Free / Recommended / Mandatory). */
export const OPTION_VALUES = ['Free', 'Recommended', 'Mandatory'] as const;

/** The columns I3 and I4 share: who, the dates and the option. */
const login: Column = {
  name: 'user_loginid',
  field: 'login',
  type: 'text',
  mandatory: true,
  maxLength: 100,
  description: 'login of the learner (an error when no user has it, or when it is outside your scope)',
  example: 'cmartin',
};
export const dateColumns = (what: string): Column[] => [
  { name: 'start_date', field: 'startDate', type: 'date', description: `start date of the ${what}`, example: '2025/01/06' },
  { name: 'end_date', field: 'endDate', type: 'date', description: `end date of the ${what}`, example: '2025/06/30' },
  {
    name: 'objective_date',
    field: 'objectiveDate',
    type: 'date',
    description: 'objective date (between start and end)',
    example: '2025/03/31',
  },
];
export const optionColumn = (what: string): Column => ({
  name: 'assignment_option',
  field: 'option',
  type: 'enum',
  values: OPTION_VALUES,
  description: `option of the ${what}; empty: Free for a new one, unchanged for an existing one`,
  example: 'Mandatory',
});
export { login as loginColumn };

/** The options of I3 and I4. */
export const assignmentImportOptions = (what: string): KindOption[] => [
  {
    name: 'respectAudiences',
    type: 'boolean',
    default: true,
    description: `a ${what} with audiences goes only to users who share one (false: ignore audiences)`,
  },
  {
    name: 'updateExisting',
    type: 'boolean',
    default: false,
    description: `change the dates and option of the ${what} assignments the users have already, from the filled cells (false: leave them unchanged)`,
  },
  {
    name: 'notifyTemplateId',
    type: 'text',
    default: '',
    description: `the mail template the learners are notified with, as the assistants' notify (context ${what}_assignment); empty: no mail`,
  },
];

/** I3: course assignments, a user (by login) and a course (by its unique code) per row. */
export const courseAssignmentsKind: KindDeclaration = {
  id: 'I3',
  kind: 'course-assignments',
  title: 'Course assignments',
  // A row is a few short cells, applied by sets (one insert for a chunk's new assignments).
  chunkRows: 5000,
  // A row needs nothing another row changes (a repeated user and course is refused first).
  parallelChunks: 2,
  key: ['login', 'courseCode'],
  columns: [
    login,
    {
      name: 'crsvname',
      field: 'courseCode',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'unique code of the course (an error when no course has it)',
      example: 'SAFETY-101',
    },
    ...dateColumns('assignment'),
    {
      name: 'external_session_id',
      field: 'externalSessionId',
      type: 'text',
      maxLength: 100,
      description:
        'external id of the instructor-led session (kept on the assignment; a warning when the course has no session with this id, see I8)',
      example: '',
    },
    optionColumn('assignment'),
    {
      name: 'billing_mode',
      field: 'paymentMode',
      type: 'enum',
      values: ['ByCourse', 'ByHour', 'NotBilled', 'PrepaidAccount'],
      description: 'payment mode',
      example: 'ByCourse',
    },
    { name: 'billing_code', field: 'paymentCode', type: 'text', maxLength: 100, description: 'payment code', example: 'PO-2025-17' },
    {
      name: 'session_enrolment_status',
      field: 'sessionEnrolmentStatus',
      type: 'text',
      maxLength: 100,
      description: 'enrolment status in the instructor-led session (kept on the assignment)',
      example: '',
    },
    { name: 'unit_cost', field: 'unitCost', type: 'decimal', description: 'unit cost', example: '450.00' },
  ],
  options: assignmentImportOptions('course'),
};
