import type { ConsumerDefinition } from '@assistants/kit';
import { AttemptChanged } from '@assistants/proto/gen/assessment/v1/events';
import { followCourses } from './follow';
import { lockLessonProgress, upsertLessonProgress } from './progress.repo';
import type { Status } from './rules';

/*
 * The lesson that plays a test follows the user's attempts on it (the assessment service's
 * events): each event carries the lesson's result from the attempts that remain — the best
 * one's status, score and date, their count and time spent — after an attempt is recorded,
 * its scores edited (T1) or it is deleted (T2; no attempt left: not started). The course's
 * and curricula's statuses follow by the usual rules. The event states the result whole, so
 * applying one again changes nothing.
 */

export const ASSESSMENT_DURABLE = 'statistics-assessment';
export const ASSESSMENT_STREAM = { name: 'ASSESSMENT', subjects: ['assessment.>'] };

const STATUSES: Record<string, Status> = {
  passed: 'passed',
  failed: 'failed',
  completed: 'completed',
  incomplete: 'incomplete',
  not_started: 'not_started',
};

export function assessmentConsumer(): ConsumerDefinition {
  return {
    stream: ASSESSMENT_STREAM.name,
    durable: ASSESSMENT_DURABLE,
    subject: 'assessment.attempt.>',
    handler: async (event, { tx, emit }) => {
      if (!/^assessment\.attempt\.(recorded|scores-edited|deleted)\.v1$/.test(event.subject)) return;
      const { attempt, lesson } = AttemptChanged.fromJSON(event.data);
      // A test not played as a lesson has nothing to follow.
      if (!attempt || !lesson?.lessonId || !lesson.courseId) return;
      const userId = attempt.userId.toLowerCase();
      const lessonId = lesson.lessonId.toLowerCase();
      const courseId = lesson.courseId.toLowerCase();
      const status = lesson.attempts > 0 ? (STATUSES[lesson.status] ?? 'incomplete') : 'not_started';
      const before = await lockLessonProgress(tx, userId, lessonId);
      await upsertLessonProgress(tx, [
        {
          user_id: userId,
          lesson_id: lessonId,
          course_id: courseId,
          status,
          attempts: lesson.attempts,
          score: lesson.attempts > 0 ? Math.min(100, Math.max(0, lesson.scorePercent)) : null,
          status_date: lesson.statusDate ? new Date(lesson.statusDate) : null,
          time_spent_seconds: lesson.timeSpentSeconds,
          present: before?.present ?? null,
        },
      ]);
      await followCourses(tx, emit, [{ userId, courseId }], 'assessment');
    },
  };
}
