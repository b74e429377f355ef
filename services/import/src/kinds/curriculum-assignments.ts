import type { KindDeclaration } from '../engine/columns';
import { assignmentImportOptions, dateColumns, loginColumn, optionColumn } from './course-assignments';

/** I4: curriculum assignments, a user (by login) and a curriculum (by its unique code) per
 * row; the curriculum's courses come with it, as with the assistant (U12). */
export const curriculumAssignmentsKind: KindDeclaration = {
  id: 'I4',
  kind: 'curriculum-assignments',
  title: 'Curriculum assignments',
  // One chunk at a time: two curricula of one user may share a course (rows of two chunks
  // would then insert the same course assignment at once).
  chunkRows: 2000,
  key: ['login', 'curriculumCode'],
  columns: [
    loginColumn,
    {
      name: 'curriculum_extid',
      field: 'curriculumCode',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'unique code of the curriculum (an error when no curriculum has it)',
      example: 'ONBOARDING',
    },
    ...dateColumns('assignment'),
    optionColumn('assignment'),
  ],
  options: [
    ...assignmentImportOptions('curriculum'),
    {
      name: 'carryDatesToCourses',
      type: 'boolean',
      default: false,
      description: "the curriculum's dates and option also go onto its courses' assignments, as the assistant's carry-over",
    },
  ],
};
