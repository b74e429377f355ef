import { ProgressStatus } from '@assistants/proto/gen/statistics/v1/common';
import type { GetUserProgressResponse } from '@assistants/proto/gen/statistics/v1/progress';
import type { StatisticsClient } from '@assistants/statistics/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdParams, OneOf, responses } from '../schemas/common';

const tags = ['statistics'];

export const PROGRESS_STATUSES = ['not_started', 'browsed', 'failed', 'incomplete', 'passed', 'completed'] as const;
export type ProgressStatusName = (typeof PROGRESS_STATUSES)[number];

/** A status as the API names it, and back. */
export const statusName = (s: ProgressStatus): ProgressStatusName =>
  PROGRESS_STATUSES[s - ProgressStatus.PROGRESS_STATUS_NOT_STARTED] ?? 'not_started';
export const statusOf = (name: ProgressStatusName | undefined): ProgressStatus =>
  name ? ProgressStatus.PROGRESS_STATUS_NOT_STARTED + PROGRESS_STATUSES.indexOf(name) : ProgressStatus.PROGRESS_STATUS_UNSPECIFIED;

const Status = OneOf(PROGRESS_STATUSES);
const Instant = Type.String({ description: 'RFC 3339; "" when never set' });
const Day = Type.String({ description: 'YYYY-MM-DD; "" for none' });
const Item = Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() });

const LessonProgress = Type.Object({
  lessonId: Type.String(),
  code: Type.String(),
  name: Type.String(),
  type: OneOf(['A', 'L', 'W', 'T', 'E'] as const),
  optional: Type.Boolean(),
  counts: Type.Boolean({ description: "whether it counts for the course's status (types A, L, W, T)" }),
  hasTest: Type.Boolean({ description: 'whether it takes a score (types A, L, T)' }),
  status: Status,
  attempts: Type.Integer(),
  score: Type.Union([Type.Integer(), Type.Null()]),
  statusDate: Instant,
  timeSpentSeconds: Type.Integer(),
  present: Type.Union([Type.Boolean(), Type.Null()], { description: 'instructor-led lessons: null when not recorded' }),
});

const UserProgress = Type.Object(
  {
    userId: Type.String(),
    courses: Type.Array(
      Type.Object({
        course: Item,
        status: Status,
        statusDate: Instant,
        timeSpentSeconds: Type.Integer(),
        startDate: Day,
        objectiveDate: Day,
        endDate: Day,
        option: Type.String(),
        assignedAt: Instant,
        lessons: Type.Array(LessonProgress),
      }),
    ),
    curricula: Type.Array(
      Type.Object({
        curriculum: Item,
        status: Status,
        statusDate: Instant,
        courseIds: Type.Array(Type.String()),
        startDate: Day,
        objectiveDate: Day,
        endDate: Day,
        option: Type.String(),
        assignedAt: Instant,
      }),
    ),
    competencies: Type.Array(
      Type.Object({
        competencyId: Type.String(),
        score: Type.Union([Type.Integer(), Type.Null()], { description: 'null: not evaluated' }),
        updatedAt: Instant,
      }),
    ),
  },
  { $id: 'UserProgress' },
);

const ExternalTrainings = Type.Object(
  {
    userId: Type.String(),
    trainings: Type.Array(
      Type.Object({
        id: Type.String(),
        courseName: Type.String(),
        courseCode: Type.String({ description: 'the unique id of the training; "" when none' }),
        passportType: Type.String(),
        startDate: Type.String({ description: 'YYYY-MM-DD' }),
        endDate: Type.String({ description: 'YYYY-MM-DD' }),
        provider: Type.String(),
        duration: Type.String(),
        modality: Type.String(),
        updatedAt: Instant,
      }),
    ),
  },
  { $id: 'ExternalTrainings' },
);

export const STATISTICS_SCHEMAS = [UserProgress, ExternalTrainings];

function toHttpProgress(p: GetUserProgressResponse) {
  return {
    userId: p.userId,
    courses: p.courses.map((c) => ({
      ...c,
      course: c.course!,
      status: statusName(c.status),
      lessons: c.lessons.map((l) => ({
        ...l,
        type: l.type as 'A',
        status: statusName(l.status),
        score: l.score ?? null,
        present: l.present ?? null,
      })),
    })),
    curricula: p.curricula.map((c) => ({ ...c, curriculum: c.curriculum!, status: statusName(c.status) })),
    competencies: p.competencies.map((c) => ({ ...c, score: c.score ?? null })),
  };
}

/** What the statistics service holds of a learner (the changes go through runs: U9, U14,
 * U20, S1). The statistics assistant's screen reads it to pick a course and a lesson. */
export const statisticsRoutes: FastifyPluginAsyncTypebox<{ statistics: StatisticsClient }> = async (app, { statistics }) => {
  app.get(
    '/v1/users/:id/progress',
    {
      schema: {
        tags,
        summary: "A user's assigned courses with their lessons and statuses, curricula and competency scores",
        params: IdParams,
        response: responses({ 200: Type.Ref(UserProgress) }),
      },
      config: { needs: 'statistics:read' },
    },
    async (request) => toHttpProgress(await statistics.progress.getUserProgress({ userId: request.params.id })),
  );
  app.get(
    '/v1/users/:id/external-trainings',
    {
      schema: {
        tags,
        summary: "A user's external training records (the I9 import), latest first",
        params: IdParams,
        response: responses({ 200: Type.Ref(ExternalTrainings) }),
      },
      config: { needs: 'statistics:read' },
    },
    (request) => statistics.progress.listExternalTrainings({ userId: request.params.id }),
  );
};
