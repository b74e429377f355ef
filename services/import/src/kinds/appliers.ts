import { organisationsApplier, usersApplier, usersFinisher, type Applier, type Finisher } from './apply';
import { courseAssignmentsKind } from './course-assignments';
import { courseAssignmentsApplier } from './course-assignments.apply';
import { curriculumAssignmentsKind } from './curriculum-assignments';
import { curriculumAssignmentsApplier } from './curriculum-assignments.apply';
import { organisationsKind } from './organisations';
import { staticListsApplier } from './static-lists.apply';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** How the chunks of each kind are applied (a kind without one cannot be imported yet). */
export const APPLIERS: Record<string, Applier> = {
  organisations: organisationsApplier(organisationsKind),
  users: usersApplier(usersKind),
  'static-lists': staticListsApplier(staticListsKind),
  'course-assignments': courseAssignmentsApplier(courseAssignmentsKind),
  'curriculum-assignments': curriculumAssignmentsApplier(curriculumAssignmentsKind),
};

/** The last pass of the kinds that have one, after the file's last chunk. */
export const FINISHERS: Record<string, Finisher> = {
  users: usersFinisher,
};
