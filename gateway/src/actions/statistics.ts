import { Type, type TSchema } from '@sinclair/typebox';
import { PROGRESS_STATUSES, statusOf } from '../routes/statistics';
import { Id, OneOf } from '../schemas/common';
import { defineAction, type ActionDefinition } from './action';

/** The statistics actions: U9 and U14 (reset progress, notify), U20 (competency scores) of
 * the user assistant, and the statistics assistant S1 (one lesson of one course for the
 * selected user). Each batch goes to the statistics service, which checks the parameters (a
 * 400 naming the field), applies the batch once per idempotency key and answers one result
 * per item and target. */

const Params = <P extends Record<string, TSchema>>(properties: P) => Type.Object(properties, { additionalProperties: false });
const Ids = (description: string) => Type.Array(Id, { minItems: 1, maxItems: 500, description });
const notifyTemplateId = Type.Optional(
  Type.String({ maxLength: 100, description: 'the mail template the learners are notified with; absent or "" for no mail' }),
);

export const statisticsActions: ActionDefinition[] = [
  defineAction({
    id: 'U9',
    assistant: 'users',
    title: 'Reset courses',
    params: Params({ courseIds: Ids('the courses whose progress starts over (the assignments stay)'), notifyTemplateId }),
    apply: async ({ statistics }, userIds, p, batch) =>
      (await statistics.progress.resetCourses({ batch, userIds, courseIds: p.courseIds, notifyTemplateId: p.notifyTemplateId ?? '' }))
        .result!,
  }),
  defineAction({
    id: 'U14',
    assistant: 'users',
    title: 'Reset curricula',
    params: Params({
      curriculumIds: Ids('the curricula whose status starts over'),
      resetCourses: Type.Optional(Type.Boolean({ default: false, description: "also reset the progress on the curricula's courses" })),
      notifyTemplateId,
    }),
    apply: async ({ statistics }, userIds, p, batch) =>
      (
        await statistics.progress.resetCurricula({
          batch,
          userIds,
          curriculumIds: p.curriculumIds,
          resetCourses: p.resetCourses ?? false,
          notifyTemplateId: p.notifyTemplateId ?? '',
        })
      ).result!,
  }),
  defineAction({
    id: 'U20',
    assistant: 'users',
    title: 'Set competency scores',
    params: Params({
      competencyIds: Ids('the competencies'),
      score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'the score, 0-100 (or notEvaluated)' })),
      notEvaluated: Type.Optional(Type.Boolean({ default: false, description: 'set "not evaluated" instead of a score' })),
    }),
    apply: async ({ statistics }, userIds, p, batch) =>
      (
        await statistics.progress.setCompetencyScores({
          batch,
          userIds,
          competencyIds: p.competencyIds,
          score: p.score,
          notEvaluated: p.notEvaluated ?? false,
        })
      ).result!,
  }),
  defineAction({
    id: 'S1',
    assistant: 'users',
    title: 'Statistics assistant: set lesson progress',
    params: Params({
      courseId: Id,
      lessonId: Id,
      status: OneOf(PROGRESS_STATUSES, 'the lesson status'),
      resetAttempts: Type.Optional(Type.Boolean({ default: false, description: 'reset the attempt count: only with not_started' })),
      score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'only for a lesson with a test (types A, L, T)' })),
      statusDate: Type.Optional(Type.String({ description: 'YYYY-MM-DD or an RFC 3339 instant; absent: now' })),
      timeSpentSeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'time spent on the lesson; absent: unchanged' })),
      present: Type.Optional(Type.Boolean({ description: 'instructor-led lessons (type T): whether the learner was present' })),
    }),
    apply: async ({ statistics }, userIds, p, batch) =>
      (
        await statistics.progress.setLessonProgress({
          batch,
          userIds,
          courseId: p.courseId,
          lessonId: p.lessonId,
          status: statusOf(p.status),
          resetAttempts: p.resetAttempts ?? false,
          score: p.score,
          statusDate: p.statusDate ?? '',
          timeSpentSeconds: p.timeSpentSeconds,
          present: p.present,
        })
      ).result!,
  }),
];
