import { invalidArgument, type Emit, type Queryable } from '@assistants/kit';
import type {
  AddCurriculumAudiencesRequest,
  ModifyCurriculumCustomFieldsRequest,
  ModifyCurriculumInformationRequest,
} from '@assistants/proto/gen/catalog/v1/curricula';
import type { Audiences } from './audiences';
import { audiencesChange, columnChange, NO_CHANGE, type BatchChange, type BatchTarget } from './batch-items';
import { CUSTOM_FIELDS } from './courses.repo';
import { curriculumFieldColumns } from './curricula';
import { loadCurricula } from './curricula.repo';
import { events } from './events';

/** The curricula of the curriculum assistant's batches; each change emits
 * catalog.curriculum.updated.v1. */
export const CURRICULA: BatchTarget = {
  table: 'curricula',
  noun: 'curriculum',
  async emitUpdated(tx: Queryable, emit: Emit, ids: string[]) {
    for (const curriculum of await loadCurricula(tx, ids)) events.curriculum(emit, 'updated', curriculum);
  },
};

/** P1: disabled, free text 1 and 2; each absent one stays as it is. */
export function curriculumInformationChange(req: ModifyCurriculumInformationRequest): BatchChange {
  const { disabled, freeText1, freeText2 } = req;
  return columnChange(curriculumFieldColumns({ disabled, freeText1, freeText2 })) ?? NO_CHANGE;
}

/** P2: the custom fields; each absent one stays as it is. */
export function curriculumCustomFieldsChange(req: ModifyCurriculumCustomFieldsRequest): BatchChange {
  return columnChange(curriculumFieldColumns(Object.fromEntries(CUSTOM_FIELDS.map((k) => [k, req[k]])))) ?? NO_CHANGE;
}

/** P3: audiences added to those of each curriculum; they must exist in identity. */
export async function curriculumAudiencesChange(audiences: Audiences, req: AddCurriculumAudiencesRequest): Promise<BatchChange> {
  if (req.audienceIds.length === 0) throw invalidArgument('audienceIds', 'audienceIds needs at least one audience');
  return audiencesChange([...(await audiences.requireExisting('audienceIds', req.audienceIds))].sort());
}
