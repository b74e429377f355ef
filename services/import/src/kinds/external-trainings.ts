import type { KindDeclaration } from '../engine/columns';

/** I9: external training records ("passport"): training a learner followed outside the
 * catalogue. A record is known by its learner, its course (the unique id, else the name) and
 * its start date. */
export const externalTrainingsKind: KindDeclaration = {
  id: 'I9',
  kind: 'external-trainings',
  title: 'External training records',
  columns: [
    { name: 'course_name', field: 'courseName', type: 'text', mandatory: true, description: 'name of the training', example: 'First aid' },
    {
      name: 'course_uid',
      field: 'courseCode',
      type: 'text',
      maxLength: 100,
      description: "the training's unique id; empty: the record is known by its name",
      example: 'EXT-FA-2026',
    },
    { name: 'passport_type', field: 'passportType', type: 'text', maxLength: 100, description: 'type of passport', example: 'Safety' },
    { name: 'start_date', field: 'startDate', type: 'date', mandatory: true, description: 'start date', example: '2026/02/02' },
    {
      name: 'end_date',
      field: 'endDate',
      type: 'date',
      mandatory: true,
      description: 'end date (not before the start)',
      example: '2026/02/03',
    },
    { name: 'provider', field: 'provider', type: 'text', description: 'training provider', example: 'Red Cross' },
    { name: 'duration', field: 'duration', type: 'text', maxLength: 50, description: 'duration, as the provider gives it', example: '14h' },
    { name: 'modality', field: 'modality', type: 'text', maxLength: 100, description: 'modality', example: 'classroom' },
    { name: 'learner_id', field: 'login', type: 'text', mandatory: true, description: "the learner's login", example: 'jdupont' },
    {
      name: 'learner_lastname',
      field: 'lastName',
      type: 'text',
      description: "the learner's last name (a warning when it is not the user's)",
      example: 'Dupont',
    },
    {
      name: 'learner_firstname',
      field: 'firstName',
      type: 'text',
      description: "the learner's first name (a warning when it is not the user's)",
      example: 'Jean',
    },
    {
      name: 'action',
      field: 'action',
      type: 'enum',
      values: ['A', 'D'],
      description: 'empty or A: add the record, or update it; D: delete it',
      example: '',
    },
  ],
  options: [],
};
