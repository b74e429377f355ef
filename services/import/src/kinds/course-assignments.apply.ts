import { withContext } from '@assistants/kit';
import type { CourseAssignmentImportRow } from '@assistants/proto/gen/assignment/v1/assignments';
import { AssignmentOption, PaymentMode } from '@assistants/proto/gen/assignment/v1/common';
import type { KindDeclaration } from '../engine/columns';
import type { ParsedRow } from '../engine/rows';
import { outcomesOf, type Applier, type ChunkCall } from './apply';

/** The file's option values (OPTION_VALUES) as the assignment service knows them. */
const OPTIONS: Record<string, AssignmentOption> = {
  Free: AssignmentOption.ASSIGNMENT_OPTION_FREE,
  Recommended: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
  Mandatory: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
};

/** The file's billing modes as the assignment service knows them. */
const PAYMENT_MODES: Record<string, PaymentMode> = {
  ByCourse: PaymentMode.PAYMENT_MODE_BY_COURSE,
  ByHour: PaymentMode.PAYMENT_MODE_BY_HOUR,
  NotBilled: PaymentMode.PAYMENT_MODE_NOT_BILLED,
  PrepaidAccount: PaymentMode.PAYMENT_MODE_PREPAID_ACCOUNT,
};

/** A cell as an optional proto field: absent when empty (an existing assignment keeps it). */
export const opt = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

export const optionOf = (value: unknown): AssignmentOption =>
  typeof value === 'string' ? OPTIONS[value] : AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED;

/** What I3 and I4 send along with the rows: the batch header and the kind's options. */
export const assignmentChunk = (call: ChunkCall) => ({
  batch: { idempotencyKey: call.dryRun ? '' : `import:${call.jobId}:${call.no}`, dryRun: call.dryRun },
  ignoreAudiences: call.options.respectAudiences === false,
  updateExisting: call.options.updateExisting === true,
  notifyTemplateId: (call.options.notifyTemplateId as string | undefined) ?? '',
});

export const courseAssignmentsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const rows = call.rows.map((r: ParsedRow): CourseAssignmentImportRow => ({
      itemId: String(r.line),
      login: r.values.login as string,
      courseCode: r.values.courseCode as string,
      startDate: opt(r.values.startDate),
      endDate: opt(r.values.endDate),
      objectiveDate: opt(r.values.objectiveDate),
      externalSessionId: opt(r.values.externalSessionId),
      option: optionOf(r.values.option),
      paymentMode: typeof r.values.paymentMode === 'string' ? PAYMENT_MODES[r.values.paymentMode] : undefined,
      paymentCode: opt(r.values.paymentCode),
      sessionEnrolmentStatus: opt(r.values.sessionEnrolmentStatus),
      unitCost: opt(r.values.unitCost),
    }));
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.assignment.assignments.importCourseAssignments({ ...assignmentChunk(call), rows }),
    );
    return outcomesOf(kind, call.rows, result!.results);
  };
