import { withContext } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { CourseStatisticsRow } from '@assistants/proto/gen/statistics/v1/imports';
import type { KindDeclaration } from '../engine/columns';
import { outcomesOf, type Applier } from './apply';
import { assignMissing } from './assign-missing';
import { STATUS_LETTERS, statisticsHeader, whenStatusExists } from './lesson-statistics.apply';

/** I6: each chunk to the statistics service (after assigning the missing courses, when
 * asked). */
export const courseStatisticsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r): CourseStatisticsRow => ({
      itemId: String(r.line),
      login: r.values.login as string,
      courseCode: r.values.courseCode as string,
      status: STATUS_LETTERS[r.values.status as string],
      statusDate: (r.values.statusDate as string | null) ?? '',
      enrolmentDate: (r.values.enrolmentDate as string | null) ?? '',
    }));
    const { assigned, explain } = call.options.assignWhenMissing
      ? await assignMissing(upstreams, call, rows)
      : { assigned: [], explain: (results: ItemResult[]) => results };
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.statistics.imports.importCourseStatistics({
        batch: statisticsHeader(call),
        rows,
        whenStatusExists: whenStatusExists(call),
        assigned,
      }),
    );
    return outcomesOf(kind, call.rows, explain(result!.results));
  };
