import type { Column, KindDeclaration } from '../engine/columns';

/** The options I5 and I6 share: what a row does when the learner already has a status, and
 * whether a course not assigned to the learner is assigned first. */
export const statisticsOptions: KindDeclaration['options'] = [
  {
    name: 'whenStatusExists',
    type: 'enum',
    values: ['newSession', 'reject'],
    default: 'newSession',
    description:
      'when the learner already has a status the row would change: newSession keeps the previous record as history and records the row as the current session; reject rejects the row',
  },
  {
    name: 'assignWhenMissing',
    type: 'boolean',
    default: false,
    description: 'assign the course to a learner who does not have it (else the row is rejected)',
  },
];

/** The first two columns of I5 and I6: whose record, of which course. */
export const learnerAndCourse: Column[] = [
  { name: 'user_loginid', field: 'login', type: 'text', mandatory: true, description: "the learner's login", example: 'jdupont' },
  {
    name: 'crsvname',
    field: 'courseCode',
    type: 'text',
    mandatory: true,
    maxLength: 100,
    description: 'unique id of the course',
    example: 'SAFETY-101',
  },
];

/** I5: lesson statistics, one lesson record of a learner per row. */
export const lessonStatisticsKind: KindDeclaration = {
  id: 'I5',
  kind: 'lesson-statistics',
  title: 'Lesson statistics',
  columns: [
    ...learnerAndCourse,
    {
      name: 'lsnvname',
      field: 'lessonCode',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'unique id of the lesson in the course',
      example: 'SAFETY-101-L1',
    },
    {
      name: 'lnk_type',
      field: 'lessonType',
      type: 'enum',
      mandatory: true,
      values: ['A', 'L', 'W', 'T', 'E'],
      description:
        "type of the lesson, which must be the lesson's: A assignment, L lesson, W webinar, T LTI activity or instructor-led, E educational resource",
      example: 'L',
    },
    {
      name: 'lesson_status',
      field: 'status',
      type: 'enum',
      mandatory: true,
      values: ['C', 'P', 'F', 'I', 'N'],
      description: 'C completed, P passed, F failed, I incomplete, N not started',
      example: 'C',
    },
    {
      name: 'lesson_status_date',
      field: 'statusDate',
      type: 'date',
      description: 'date of the status (not in the future); empty: the day of the import when the status changes',
      example: '2026/03/15',
    },
    {
      name: 'lesson_score',
      field: 'score',
      type: 'integer',
      description: 'score from 0 to 100 (lessons with a test: A, L, T)',
      example: '85',
    },
    { name: 'lesson_time', field: 'timeSpent', type: 'integer', description: 'time spent, in seconds', example: '1800' },
    {
      name: 'ilt_status',
      field: 'present',
      type: 'enum',
      values: ['P'],
      description: 'P: the learner was present (instructor-led lessons, type T); empty: not given',
      example: '',
    },
  ],
  options: statisticsOptions,
};
