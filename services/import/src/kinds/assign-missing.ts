import { createHash } from 'node:crypto';
import { asDomainError, withContext } from '@assistants/kit';
import { Outcome, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { AssignedCourse } from '@assistants/proto/gen/statistics/v1/imports';
import type { Upstreams } from '../upstreams';
import type { ChunkCall } from './apply';

/**
 * "Assign the course when missing" (I5, I6): the rows' (learner, course) pairs the statistics
 * service finds unassigned are assigned through the assignment service's U7 batch (its checks
 * and its events, as for the assistant; audiences ignored, no mail), one call per course.
 * Answers the pairs now assigned, for the statistics call (the assignment events reach the
 * statistics service's projection a moment later), and `explain`, which gives a row the
 * statistics service found not assigned the assignment service's reason, when it refused it.
 */
export async function assignMissing(
  upstreams: Upstreams,
  call: ChunkCall,
  rows: { itemId: string; login: string; courseCode: string }[],
): Promise<{ assigned: AssignedCourse[]; explain: (results: ItemResult[]) => ItemResult[] }> {
  const { pairs } = await withContext({ actorId: call.actorId }, () =>
    upstreams.statistics.imports.findUnassignedCourses({ pairs: rows.map((r) => ({ login: r.login, courseCode: r.courseCode })) }),
  );
  const byCourse = new Map<string, string[]>();
  for (const p of pairs) byCourse.set(p.courseId, [...(byCourse.get(p.courseId) ?? []), p.userId]);
  const assigned: AssignedCourse[] = [];
  const reasons = new Map<string, string>();
  for (const [courseId, userIds] of [...byCourse].sort(([a], [b]) => a.localeCompare(b))) {
    // The key names the users too: a chunk taken over after a kill may find fewer of them
    // unassigned (the events arrived since), and a key stands for one request only.
    const digest = createHash('sha256').update(userIds.join(',')).digest('hex').slice(0, 16);
    const answer = await withContext({ actorId: call.actorId }, () =>
      upstreams.assignment.assignments.assignCourses({
        batch: { idempotencyKey: call.dryRun ? '' : `import:${call.jobId}:${call.no}:assign:${courseId}:${digest}`, dryRun: call.dryRun },
        userIds,
        courseIds: [courseId],
        values: undefined,
        ignoreAudiences: true,
        notifyTemplateId: '',
      }),
    ).catch((error: unknown) => {
      // Holding assignments:write nowhere refuses the whole call: those rows only are refused.
      const refusal = asDomainError(error);
      if (refusal?.code !== 'PERMISSION_DENIED') throw error;
      for (const userId of userIds) reasons.set(`${userId}|${courseId}`, refusal.message);
      return undefined;
    });
    const result = answer?.result ?? { results: [] };
    for (const r of result.results) {
      if (r.outcome === Outcome.OUTCOME_FAILED) reasons.set(`${r.itemId.toLowerCase()}|${courseId}`, r.message);
      else assigned.push({ userId: r.itemId, courseId });
    }
  }
  const pairOf = new Map(pairs.map((p) => [`${p.login.toLowerCase()}|${p.courseCode.toLowerCase()}`, `${p.userId}|${p.courseId}`]));
  const rowOf = new Map(rows.map((r) => [r.itemId, r]));
  const reasonOf = (r: ItemResult) => {
    const row = rowOf.get(r.itemId);
    return row && reasons.get(pairOf.get(`${row.login.toLowerCase()}|${row.courseCode.toLowerCase()}`) ?? '');
  };
  const explain = (results: ItemResult[]) =>
    results.map((r) => {
      const reason = r.code === 'NOT_ASSIGNED' ? reasonOf(r) : undefined;
      return reason === undefined ? r : { ...r, message: `the course could not be assigned: ${reason}` };
    });
  return { assigned, explain };
}
