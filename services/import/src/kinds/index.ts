import type { KindDeclaration } from '../engine/columns';
import { courseStatisticsKind } from './course-statistics';
import { externalTrainingsKind } from './external-trainings';
import { lessonStatisticsKind } from './lesson-statistics';
import { organisationsKind } from './organisations';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** Every import kind, by its name in the routes. */
export const KINDS: Record<string, KindDeclaration> = {
  organisations: organisationsKind,
  users: usersKind,
  'lesson-statistics': lessonStatisticsKind,
  'course-statistics': courseStatisticsKind,
  'external-trainings': externalTrainingsKind,
  'static-lists': staticListsKind,
};
