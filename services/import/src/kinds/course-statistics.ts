import type { KindDeclaration } from '../engine/columns';
import { learnerAndCourse, statisticsOptions } from './lesson-statistics';

/** I6: course statistics, one course record of a learner per row (set as given, whatever the
 * course's lessons). */
export const courseStatisticsKind: KindDeclaration = {
  id: 'I6',
  kind: 'course-statistics',
  title: 'Course statistics',
  columns: [
    ...learnerAndCourse,
    {
      name: 'course_status',
      field: 'status',
      type: 'enum',
      mandatory: true,
      values: ['N', 'I', 'C'],
      description: 'N not started, I incomplete, C completed (even when its lessons are not)',
      example: 'C',
    },
    {
      name: 'course_status_date',
      field: 'statusDate',
      type: 'date',
      description: 'date of the status (not in the future); empty: the day of the import when the status changes',
      example: '2026/03/15',
    },
    {
      name: 'course_enrollement_date',
      field: 'enrolmentDate',
      type: 'date',
      description: 'date the learner enrolled (not in the future)',
      example: '2026/01/10',
    },
  ],
  options: statisticsOptions,
};
