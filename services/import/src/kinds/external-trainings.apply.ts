import { withContext } from '@assistants/kit';
import type { ExternalTrainingRow } from '@assistants/proto/gen/statistics/v1/imports';
import type { KindDeclaration } from '../engine/columns';
import { outcomesOf, type Applier } from './apply';
import { statisticsHeader } from './lesson-statistics.apply';

const text = (value: unknown) => (value as string | null) ?? '';

/** I9: each chunk to the statistics service. */
export const externalTrainingsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r): ExternalTrainingRow => ({
      itemId: String(r.line),
      courseName: text(r.values.courseName),
      courseCode: text(r.values.courseCode),
      passportType: text(r.values.passportType),
      startDate: text(r.values.startDate),
      endDate: text(r.values.endDate),
      provider: text(r.values.provider),
      duration: text(r.values.duration),
      modality: text(r.values.modality),
      login: text(r.values.login),
      lastName: text(r.values.lastName),
      firstName: text(r.values.firstName),
      delete: r.values.action === 'D',
    }));
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.statistics.imports.importExternalTrainings({ batch: statisticsHeader(call), rows }),
    );
    return outcomesOf(kind, call.rows, result!.results);
  };
