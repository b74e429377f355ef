import { organisationsApplier, usersApplier, usersFinisher, type Applier, type Finisher } from './apply';
import { courseAssignmentsKind } from './course-assignments';
import { courseAssignmentsApplier } from './course-assignments.apply';
import { curriculumAssignmentsKind } from './curriculum-assignments';
import { curriculumAssignmentsApplier } from './curriculum-assignments.apply';
import { courseStatisticsKind } from './course-statistics';
import { courseStatisticsApplier } from './course-statistics.apply';
import { externalTrainingsKind } from './external-trainings';
import { externalTrainingsApplier } from './external-trainings.apply';
import { lessonStatisticsKind } from './lesson-statistics';
import { lessonStatisticsApplier } from './lesson-statistics.apply';
import { organisationsKind } from './organisations';
import { sessionsKind } from './sessions';
import { sessionsApplier } from './sessions.apply';
import { staticListsApplier } from './static-lists.apply';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';
import { usersUnchanged } from './users.unchanged';
import type { UnchangedRows } from '../engine/process';
import type { KindOptions } from '../options';
import type { Upstreams } from '../upstreams';

/** How the chunks of each kind are applied (a kind without one cannot be imported yet). */
export const APPLIERS: Record<string, Applier> = {
  organisations: organisationsApplier(organisationsKind),
  users: usersApplier(usersKind),
  'course-assignments': courseAssignmentsApplier(courseAssignmentsKind),
  'curriculum-assignments': curriculumAssignmentsApplier(curriculumAssignmentsKind),
  'lesson-statistics': lessonStatisticsApplier(lessonStatisticsKind),
  'course-statistics': courseStatisticsApplier(courseStatisticsKind),
  'static-lists': staticListsApplier(staticListsKind),
  sessions: sessionsApplier(sessionsKind),
  'external-trainings': externalTrainingsApplier(externalTrainingsKind),
};

/** The last pass of the kinds that have one, after the file's last chunk. */
export const FINISHERS: Record<string, Finisher> = {
  users: usersFinisher,
};

/** How the kinds that can find their unchanged rows before reading them do it. */
export const UNCHANGED: Record<
  string,
  (upstreams: Upstreams, job: { id: string; actorId: string; options: KindOptions }) => UnchangedRows
> = {
  users: usersUnchanged,
};
