import { applyBatch, checkId, invalidArgument, itemResult, notFound, pairKey, permissionDenied } from '@assistants/kit';
import type { BatchResult, ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { MergeUserProgressRequest } from '@assistants/proto/gen/statistics/v1/progress';
import type { Deps } from './deps';
import { followCourses } from './follow';
import { PERMISSIONS } from './permissions';
import {
  upsertCourseProgress,
  upsertCurriculumProgress,
  upsertLessonProgress,
  type CourseProgressRow,
  type CurriculumProgressRow,
  type LessonProgressRow,
} from './progress.repo';
import { betterScore, isBetter, type Status } from './rules';
import { usersForAction } from './upstreams';

/*
 * M1's statistics step: the progress of Z (from_user_id, the user to delete) moves to A
 * (to_user_id, the user kept), in one transaction under the batch's idempotency key. Lesson
 * by lesson the better record is kept (rules.ts isBetter: completed/passed, then failed,
 * incomplete, browsed, not started; then the higher score; then the later status date); A's
 * course and curriculum statuses then follow the merged lessons; competency scores keep the
 * higher (a score over "not evaluated"). Z is left with nothing.
 */

const when = (d: Date | null) => (d ? d.getTime() : null);

export async function mergeUserProgress(deps: Deps, req: MergeUserProgressRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const from = checkId('fromUserId', req.fromUserId).toLowerCase();
  const to = checkId('toUserId', req.toUserId).toLowerCase();
  if (from === to) throw invalidArgument('toUserId', 'the user to keep must not be the user to delete');
  // With checkCovered: merging a user away changes it, so the caller must hold every grant
  // it holds (as for the merge's other steps, which answer the same errors on the same fields).
  const users = await usersForAction(deps.upstreams.identity, [from, to], PERMISSIONS.write, true);
  const check = (id: string, field: string) => {
    const user = users.get(id);
    if (!user?.found || !user.inScope) throw notFound(`no user with id ${id}`, field);
    if (!user.covered) {
      throw permissionDenied(`user "${user.login}" holds rights you do not hold: only an administrator who holds them can merge it`, field);
    }
  };
  // Inside the batch: a key applied already is answered from its record even when the users
  // have changed since (a replay after the merge deleted the user).
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    check(from, 'fromUserId');
    check(to, 'toUserId');

    // Both users' records, locked in user order (two merges never wait on each other crosswise).
    const lessons = await tx.query<LessonProgressRow>(
      'SELECT * FROM lesson_progress WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, lesson_id FOR UPDATE',
      [[from, to]],
    );
    const courses = await tx.query<CourseProgressRow>(
      'SELECT * FROM course_progress WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, course_id FOR UPDATE',
      [[from, to]],
    );
    const curricula = await tx.query<CurriculumProgressRow>(
      'SELECT * FROM curriculum_progress WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, curriculum_id FOR UPDATE',
      [[from, to]],
    );
    const scores = await tx.query<{ user_id: string; competency_id: string; score: number | null }>(
      'SELECT user_id, competency_id, score FROM competency_scores WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, competency_id FOR UPDATE',
      [[from, to]],
    );
    const mine = <R extends { user_id: string }>(rows: R[], user: string) => rows.filter((r) => r.user_id === user);

    // Lessons: Z's record replaces A's when better.
    const keptLessons = new Map(mine(lessons.rows, to).map((r) => [r.lesson_id, r]));
    const takenLessons = mine(lessons.rows, from).filter((z) => {
      const a = keptLessons.get(z.lesson_id);
      return (
        !a ||
        isBetter(
          { status: z.status, score: z.score, statusDate: when(z.status_date) },
          { status: a.status, score: a.score, statusDate: when(a.status_date) },
        )
      );
    });
    await upsertLessonProgress(
      tx,
      takenLessons.map((z) => ({ ...z, user_id: to })),
    );

    // Courses and curricula A had no record of get Z's; then A's statuses follow the lessons.
    const keptCourses = new Map(mine(courses.rows, to).map((r) => [r.course_id, r]));
    const courseIds = [
      ...new Set([...mine(courses.rows, from).map((r) => r.course_id), ...mine(lessons.rows, from).map((r) => r.course_id)]),
    ];
    await upsertCourseProgress(
      tx,
      mine(courses.rows, from)
        .filter((z) => !keptCourses.has(z.course_id))
        .map((z) => ({ ...z, user_id: to })),
    );
    const keptCurricula = new Map(mine(curricula.rows, to).map((r) => [r.curriculum_id, r]));
    const zCurricula = mine(curricula.rows, from);
    await upsertCurriculumProgress(
      tx,
      zCurricula.filter((z) => !keptCurricula.has(z.curriculum_id)).map((z) => ({ ...z, user_id: to })),
    );
    const followed = await followCourses(
      tx,
      emit,
      courseIds.map((courseId) => ({ userId: to, courseId })),
      'merge',
    );
    const { rows: curriculaAfter } = await tx.query<{ curriculum_id: string; status: Status }>(
      'SELECT curriculum_id, status FROM curriculum_progress WHERE user_id = $1 AND curriculum_id = ANY($2::uuid[])',
      [to, zCurricula.map((z) => z.curriculum_id)],
    );
    const curriculumStatus = new Map(curriculaAfter.map((r) => [r.curriculum_id, r.status]));

    // Competencies: the higher score.
    const keptScores = new Map(mine(scores.rows, to).map((r) => [r.competency_id, r.score]));
    const competencyOutcomes = mine(scores.rows, from).map((z) => {
      const had = keptScores.has(z.competency_id);
      const a = keptScores.get(z.competency_id) ?? null;
      const best = had ? betterScore(a, z.score) : z.score;
      return { competencyId: z.competency_id, had, a, best };
    });
    const changedScores = competencyOutcomes.filter((c) => !c.had || c.best !== c.a);
    await tx.query(
      `INSERT INTO competency_scores (user_id, competency_id, score)
       SELECT $1, c.id, c.score FROM unnest($2::uuid[], $3::int[]) AS c(id, score)
       ON CONFLICT (user_id, competency_id) DO UPDATE SET score = EXCLUDED.score, updated_at = now()`,
      [to, changedScores.map((c) => c.competencyId), changedScores.map((c) => c.best)],
    );

    // Z's previous sessions and external training records (I5, I6, I9) go to A as they are
    // (A's record of the same training kept).
    for (const table of ['lesson_progress_sessions', 'course_progress_sessions']) {
      await tx.query(`UPDATE ${table} SET user_id = $2 WHERE user_id = $1`, [from, to]);
    }
    await tx.query(
      `UPDATE external_trainings z SET user_id = $2, updated_at = now() WHERE z.user_id = $1 AND NOT EXISTS
         (SELECT 1 FROM external_trainings a WHERE a.user_id = $2 AND a.record_key = z.record_key AND a.start_date = z.start_date)`,
      [from, to],
    );

    // Z is left with nothing.
    for (const table of ['lesson_progress', 'course_progress', 'curriculum_progress', 'competency_scores', 'external_trainings']) {
      await tx.query(`DELETE FROM ${table} WHERE user_id = $1`, [from]);
    }

    const results: ItemResult[] = [];
    for (const courseId of courseIds) {
      const f = followed.get(pairKey(to, courseId))!;
      const before = keptCourses.get(courseId);
      if (!before) results.push(itemResult.succeeded(from, courseId, `course moved: ${f.status}`));
      else if (before.status !== f.status)
        results.push(itemResult.succeeded(from, courseId, `course merged: ${before.status} → ${f.status}`));
      else results.push(itemResult.unchanged(from, courseId, 'KEPT', `course: the kept user's ${f.status} stays`));
    }
    for (const z of zCurricula) {
      const before = keptCurricula.get(z.curriculum_id);
      const after = curriculumStatus.get(z.curriculum_id) ?? z.status;
      if (!before) results.push(itemResult.succeeded(from, z.curriculum_id, `curriculum moved: ${after}`));
      else if (before.status !== after)
        results.push(itemResult.succeeded(from, z.curriculum_id, `curriculum merged: ${before.status} → ${after}`));
      else results.push(itemResult.unchanged(from, z.curriculum_id, 'KEPT', `curriculum: the kept user's ${after} stays`));
    }
    const score = (s: number | null) => (s === null ? 'not evaluated' : String(s));
    for (const c of competencyOutcomes) {
      if (!c.had) results.push(itemResult.succeeded(from, c.competencyId, `competency moved: ${score(c.best)}`));
      else if (c.best !== c.a)
        results.push(itemResult.succeeded(from, c.competencyId, `competency merged: ${score(c.a)} → ${score(c.best)}`));
      else results.push(itemResult.unchanged(from, c.competencyId, 'KEPT', `competency: the kept user's ${score(c.a)} stays`));
    }
    if (results.length === 0) results.push(itemResult.unchanged(from, '', 'NOTHING_TO_MOVE', 'the user to delete has no progress'));
    return results;
  });
}
