import { checkId } from '@assistants/kit';
import type { GetUserProgressResponse } from '@assistants/proto/gen/statistics/v1/progress';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { countsForCourse, hasTest, type LessonType, type Status } from './rules';
import { requireUserInScope } from './upstreams';
import { statusToProto } from './values';

const iso = (d: Date | null) => (d ? d.toISOString() : '');
const day = (d: string | null) => d ?? '';

/** A user's courses (assigned, not removed) with their lessons and statuses, curricula and
 * competency scores (the acting user holds statistics:read on the user's organisation;
 * NOT_FOUND otherwise). */
export async function getUserProgress(deps: Deps, userId: string): Promise<GetUserProgressResponse> {
  const id = checkId('userId', userId).toLowerCase();
  await requireUserInScope(deps.upstreams.identity, id, PERMISSIONS.read);
  const [courses, lessons, curricula, competencies] = await Promise.all([
    deps.db.query<{
      course_id: string;
      code: string | null;
      name: string | null;
      status: Status | null;
      status_date: Date | null;
      time_spent_seconds: number | null;
      start_date: string | null;
      objective_date: string | null;
      end_date: string | null;
      option: string;
      assigned_at: Date;
    }>(
      `SELECT a.course_id, c.code, c.name, p.status, p.status_date, p.time_spent_seconds,
              a.start_date::text, a.objective_date::text, a.end_date::text, a.option, a.assigned_at
         FROM course_assignments a
         LEFT JOIN courses c ON c.id = a.course_id
         LEFT JOIN course_progress p ON p.user_id = a.user_id AND p.course_id = a.course_id
        WHERE a.user_id = $1 AND a.removed_at IS NULL
        ORDER BY c.code NULLS LAST, a.course_id`,
      [id],
    ),
    deps.db.query<{
      id: string;
      course_id: string;
      code: string;
      name: string;
      type: LessonType;
      optional: boolean;
      status: Status | null;
      attempts: number | null;
      score: number | null;
      status_date: Date | null;
      time_spent_seconds: number | null;
      present: boolean | null;
    }>(
      `SELECT l.id, l.course_id, l.code, l.name, l.type, l.optional,
              p.status, p.attempts, p.score, p.status_date, p.time_spent_seconds, p.present
         FROM course_assignments a
         JOIN lessons l ON l.course_id = a.course_id
         LEFT JOIN lesson_progress p ON p.user_id = a.user_id AND p.lesson_id = l.id
        WHERE a.user_id = $1 AND a.removed_at IS NULL
        ORDER BY l.course_id, l.position, l.id`,
      [id],
    ),
    deps.db.query<{
      curriculum_id: string;
      code: string | null;
      name: string | null;
      course_ids: string[] | null;
      status: Status | null;
      status_date: Date | null;
      start_date: string | null;
      objective_date: string | null;
      end_date: string | null;
      option: string;
      assigned_at: Date;
    }>(
      `SELECT a.curriculum_id, c.code, c.name, c.course_ids, p.status, p.status_date,
              a.start_date::text, a.objective_date::text, a.end_date::text, a.option, a.assigned_at
         FROM curriculum_assignments a
         LEFT JOIN curricula c ON c.id = a.curriculum_id
         LEFT JOIN curriculum_progress p ON p.user_id = a.user_id AND p.curriculum_id = a.curriculum_id
        WHERE a.user_id = $1 AND a.removed_at IS NULL
        ORDER BY c.code NULLS LAST, a.curriculum_id`,
      [id],
    ),
    deps.db.query<{ competency_id: string; score: number | null; updated_at: Date }>(
      'SELECT competency_id, score, updated_at FROM competency_scores WHERE user_id = $1 ORDER BY competency_id',
      [id],
    ),
  ]);
  return {
    userId: id,
    courses: courses.rows.map((c) => ({
      course: { id: c.course_id, code: c.code ?? '', name: c.name ?? '' },
      status: statusToProto(c.status ?? 'not_started'),
      statusDate: iso(c.status_date),
      timeSpentSeconds: c.time_spent_seconds ?? 0,
      startDate: day(c.start_date),
      objectiveDate: day(c.objective_date),
      endDate: day(c.end_date),
      option: c.option,
      assignedAt: c.assigned_at.toISOString(),
      lessons: lessons.rows
        .filter((l) => l.course_id === c.course_id)
        .map((l) => ({
          lessonId: l.id,
          code: l.code,
          name: l.name,
          type: l.type,
          optional: l.optional,
          counts: countsForCourse(l.type),
          hasTest: hasTest(l.type),
          status: statusToProto(l.status ?? 'not_started'),
          attempts: l.attempts ?? 0,
          score: l.score ?? undefined,
          statusDate: iso(l.status_date),
          timeSpentSeconds: l.time_spent_seconds ?? 0,
          present: l.present ?? undefined,
        })),
    })),
    curricula: curricula.rows.map((c) => ({
      curriculum: { id: c.curriculum_id, code: c.code ?? '', name: c.name ?? '' },
      status: statusToProto(c.status ?? 'not_started'),
      statusDate: iso(c.status_date),
      courseIds: c.course_ids ?? [],
      startDate: day(c.start_date),
      objectiveDate: day(c.objective_date),
      endDate: day(c.end_date),
      option: c.option,
      assignedAt: c.assigned_at.toISOString(),
    })),
    competencies: competencies.rows.map((c) => ({
      competencyId: c.competency_id,
      score: c.score ?? undefined,
      updatedAt: c.updated_at.toISOString(),
    })),
  };
}
