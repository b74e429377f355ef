import { withContext } from '@assistants/kit';
import type { KindDeclaration } from '../engine/columns';
import { outcomesOf, type Applier } from './apply';
import { assignmentChunk, opt, optionOf } from './course-assignments.apply';

export const curriculumAssignmentsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r) => ({
      itemId: String(r.line),
      login: r.values.login as string,
      curriculumCode: r.values.curriculumCode as string,
      startDate: opt(r.values.startDate),
      endDate: opt(r.values.endDate),
      objectiveDate: opt(r.values.objectiveDate),
      option: optionOf(r.values.option),
    }));
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.assignment.assignments.importCurriculumAssignments({
        ...assignmentChunk(call),
        rows,
        carryDatesToCourses: call.options.carryDatesToCourses === true,
      }),
    );
    return outcomesOf(kind, call.rows, result!.results);
  };
