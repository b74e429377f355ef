import type { KindDeclaration } from '../engine/columns';
import { courseAssignmentsKind } from './course-assignments';
import { curriculumAssignmentsKind } from './curriculum-assignments';
import { organisationsKind } from './organisations';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** Every import kind, by its name in the routes. */
export const KINDS: Record<string, KindDeclaration> = {
  organisations: organisationsKind,
  users: usersKind,
  'static-lists': staticListsKind,
  'course-assignments': courseAssignmentsKind,
  'curriculum-assignments': curriculumAssignmentsKind,
};
