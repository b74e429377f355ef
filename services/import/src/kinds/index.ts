import type { KindDeclaration } from '../engine/columns';
import { courseAssignmentsKind } from './course-assignments';
import { curriculumAssignmentsKind } from './curriculum-assignments';
import { courseStatisticsKind } from './course-statistics';
import { externalTrainingsKind } from './external-trainings';
import { lessonStatisticsKind } from './lesson-statistics';
import { organisationsKind } from './organisations';
import { sessionsKind } from './sessions';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** Every import kind, by its name in the routes, in the order of the specification (I1–I9). */
export const KINDS: Record<string, KindDeclaration> = {
  organisations: organisationsKind,
  users: usersKind,
  'course-assignments': courseAssignmentsKind,
  'curriculum-assignments': curriculumAssignmentsKind,
  'lesson-statistics': lessonStatisticsKind,
  'course-statistics': courseStatisticsKind,
  'static-lists': staticListsKind,
  sessions: sessionsKind,
  'external-trainings': externalTrainingsKind,
};
