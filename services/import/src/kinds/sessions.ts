import type { KindDeclaration } from '../engine/columns';

/** The separators inside I8's cells, as the specification gives them. */
export const LESSON_SESSIONS_SEPARATOR = '$';
export const LESSON_SESSION_PARTS_SEPARATOR = '|';
export const TRAINERS_SEPARATOR = ',';
export const ORGANISATIONS_SEPARATOR = '|';

const yesNo = (description: string, example: string) => ({ type: 'enum' as const, values: ['Y', 'N'], description, example });

/** I8: instructor-led sessions, one session of a course per row (the catalog service). */
export const sessionsKind: KindDeclaration = {
  id: 'I8',
  kind: 'sessions',
  title: 'Instructor-led sessions',
  key: ['courseCode', 'externalId'],
  columns: [
    {
      name: 'crsvname',
      field: 'courseCode',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'unique id of the course (an error when no course has it)',
      example: 'FIRE-201',
    },
    {
      name: 'lesson_sessions',
      field: 'lessonSessions',
      type: 'text',
      maxLength: 4000,
      description:
        'the sessions of its lessons: lessonId|start|end, several separated by $, start and end YYYY/MM/DD HH:mm (an error for a lesson the course does not have, or an end not after its start)',
      example: 'FIRE-201-L1|2026/03/02 09:00|2026/03/02 12:00$FIRE-201-L2|2026/03/02 14:00|2026/03/02 17:00',
    },
    {
      name: 'session_start',
      field: 'start',
      type: 'datetime',
      mandatory: true,
      description: 'start of the session',
      example: '2026/03/02 09:00',
    },
    {
      name: 'session_extid',
      field: 'externalId',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'id of the session in the course: created when the course has none with it, else the session is updated',
      example: 'FIRE-201-2026-03',
    },
    {
      name: 'session_status',
      field: 'status',
      type: 'enum',
      values: ['N', 'O', 'C', 'D', 'X'],
      description: 'N in preparation (also when empty), O open, C closed, D closed, X cancelled',
      example: 'O',
    },
    {
      name: 'max_participants',
      field: 'maxParticipants',
      type: 'integer',
      mandatory: true,
      description: 'largest number of participants (at least 1)',
      example: '12',
    },
    {
      name: 'immediate_confirmation',
      field: 'immediateConfirmation',
      ...yesNo('Y: an enrolment is confirmed at once; N or empty: it waits for a confirmation', 'Y'),
    },
    {
      name: 'waiting_list',
      field: 'waitingList',
      ...yesNo('Y: learners go on a waiting list once the session is full; N or empty: they are refused', 'N'),
    },
    {
      name: 'trainer_login',
      field: 'trainerLogin',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'login of the trainer (an error when no user has it)',
      example: 'jtrainer',
    },
    {
      name: 'additional_trainers',
      field: 'additionalTrainers',
      type: 'text',
      maxLength: 2000,
      description: 'logins of other trainers, separated by commas (a warning for a login no user has: left out)',
      example: 'mcoach,pexpert',
    },
    {
      name: 'room_extid',
      field: 'roomExtId',
      type: 'text',
      maxLength: 100,
      description: 'external id of the room or virtual room (kept as given)',
      example: 'LYON-ROOM-3',
    },
    {
      name: 'manager_login',
      field: 'managerLogin',
      type: 'text',
      maxLength: 100,
      description: 'login of the manager of the session (a warning when no user has it: no manager set)',
      example: 'rmanager',
    },
    {
      name: 'org_extids',
      field: 'organisations',
      type: 'text',
      maxLength: 4000,
      description: 'external ids of the organisations the session is for, separated by | (an error for one unknown or outside your scope)',
      example: 'FR|FR-LYON',
    },
  ],
  options: [],
};
