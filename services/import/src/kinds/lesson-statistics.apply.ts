import { withContext } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { ProgressStatus } from '@assistants/proto/gen/statistics/v1/common';
import { WhenStatusExists, type LessonStatisticsRow } from '@assistants/proto/gen/statistics/v1/imports';
import type { KindDeclaration } from '../engine/columns';
import { outcomesOf, type Applier, type ChunkCall } from './apply';
import { assignMissing } from './assign-missing';

/** The letters of the statistics files. */
export const STATUS_LETTERS: Record<string, ProgressStatus> = {
  C: ProgressStatus.PROGRESS_STATUS_COMPLETED,
  P: ProgressStatus.PROGRESS_STATUS_PASSED,
  F: ProgressStatus.PROGRESS_STATUS_FAILED,
  I: ProgressStatus.PROGRESS_STATUS_INCOMPLETE,
  N: ProgressStatus.PROGRESS_STATUS_NOT_STARTED,
};

export const statisticsHeader = (call: ChunkCall) => ({
  idempotencyKey: call.dryRun ? '' : `import:${call.jobId}:${call.no}`,
  dryRun: call.dryRun,
});

export const whenStatusExists = (call: ChunkCall) =>
  call.options.whenStatusExists === 'reject' ? WhenStatusExists.WHEN_STATUS_EXISTS_REJECT : WhenStatusExists.WHEN_STATUS_EXISTS_NEW_SESSION;

/** I5: each chunk to the statistics service (after assigning the missing courses, when
 * asked). */
export const lessonStatisticsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r): LessonStatisticsRow => ({
      itemId: String(r.line),
      login: r.values.login as string,
      courseCode: r.values.courseCode as string,
      lessonCode: r.values.lessonCode as string,
      lessonType: r.values.lessonType as string,
      status: STATUS_LETTERS[r.values.status as string],
      statusDate: (r.values.statusDate as string | null) ?? '',
      score: (r.values.score as number | null) ?? undefined,
      timeSpentSeconds: (r.values.timeSpent as number | null) ?? undefined,
      present: r.values.present === 'P' ? true : undefined,
    }));
    const { assigned, explain } = call.options.assignWhenMissing
      ? await assignMissing(upstreams, call, rows)
      : { assigned: [], explain: (results: ItemResult[]) => results };
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.statistics.imports.importLessonStatistics({
        batch: statisticsHeader(call),
        rows,
        whenStatusExists: whenStatusExists(call),
        assigned,
      }),
    );
    return outcomesOf(kind, call.rows, explain(result!.results));
  };
