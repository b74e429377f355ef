import { applyBatch, checkIds, invalidArgument, itemIds, pairKey, Results } from '@assistants/kit';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { SetCompetencyScoresRequest } from '@assistants/proto/gen/statistics/v1/progress';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { requireCompetencies, userRefusal, usersForAction } from './upstreams';
import { checkScore } from './values';

/** U20: sets each user's score on each competency (per user and competency), or "not
 * evaluated" (a null score). The same value again is unchanged (NO_CHANGE). */
export async function setCompetencyScores(deps: Deps, req: SetCompetencyScoresRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const competencyIds = checkIds('competencyIds', req.competencyIds, { required: true }).map((id) => id.toLowerCase());
  const score = checkScore('score', req.score);
  if (score === undefined && !req.notEvaluated) throw invalidArgument('score', 'give a score from 0 to 100, or notEvaluated');
  if (score !== undefined && req.notEvaluated) throw invalidArgument('notEvaluated', 'a score and notEvaluated exclude each other');
  const value = req.notEvaluated ? null : score!;
  await requireCompetencies(deps.upstreams.catalog, competencyIds, 'competencyIds');
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx) => {
    const results = new Results(userIds, competencyIds);
    const accepted: string[] = [];
    for (const userId of userIds) {
      const refusal = userRefusal(users.get(userId), PERMISSIONS.write);
      if (refusal) competencyIds.forEach((c) => results.failed(userId, c, refusal));
      else accepted.push(userId);
    }
    const pairs = accepted.flatMap((userId) => competencyIds.map((competencyId) => ({ userId, competencyId })));
    const { rows } = await tx.query<{ user_id: string; competency_id: string }>(
      `INSERT INTO competency_scores (user_id, competency_id, score)
       SELECT p.user_id, p.competency_id, $3::int FROM unnest($1::uuid[], $2::uuid[]) AS p(user_id, competency_id)
       ON CONFLICT (user_id, competency_id) DO UPDATE SET score = EXCLUDED.score, updated_at = now()
         WHERE competency_scores.score IS DISTINCT FROM EXCLUDED.score
       RETURNING user_id, competency_id`,
      [pairs.map((p) => p.userId), pairs.map((p) => p.competencyId), value],
    );
    const changed = new Set(rows.map((r) => pairKey(r.user_id, r.competency_id)));
    const what = value === null ? 'not evaluated' : `score ${value}`;
    for (const p of pairs) {
      if (changed.has(pairKey(p.userId, p.competencyId))) results.succeeded(p.userId, p.competencyId, what);
      else results.unchanged(p.userId, p.competencyId, 'NO_CHANGE', `already ${what}`);
    }
    return results.list();
  });
}
