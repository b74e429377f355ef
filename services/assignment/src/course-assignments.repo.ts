import type { Queryable } from '@assistants/kit';
import type { CourseAssignment } from '@assistants/proto/gen/assignment/v1/common';
import { optionToProto, paymentModeToProto, type AssignmentData, type Option, type PaymentModeName } from './values';

export type CourseAssignmentRow = {
  user_id: string;
  course_id: string;
  start_date: string | null;
  objective_date: string | null;
  end_date: string | null;
  option: Option;
  payment_mode: PaymentModeName;
  payment_code: string;
  unit_cost: string | null;
  direct: boolean;
  via_curricula: string[];
  via_access_properties: string[];
  assigned_at: Date;
  updated_at: Date;
};

/** A course assignment as the commands handle it: its data and where it comes from. */
export interface CourseAssignmentState extends AssignmentData {
  userId: string;
  courseId: string;
  direct: boolean;
  viaCurricula: string[];
  viaAccessProperties: string[];
}

export function stateOf(row: CourseAssignmentRow): CourseAssignmentState {
  return {
    userId: row.user_id,
    courseId: row.course_id,
    startDate: row.start_date,
    objectiveDate: row.objective_date,
    endDate: row.end_date,
    option: row.option,
    paymentMode: row.payment_mode,
    paymentCode: row.payment_code,
    unitCost: row.unit_cost,
    direct: row.direct,
    viaCurricula: row.via_curricula,
    viaAccessProperties: row.via_access_properties,
  };
}

export function toCourseAssignment(row: CourseAssignmentRow): CourseAssignment {
  return {
    userId: row.user_id,
    courseId: row.course_id,
    startDate: row.start_date ?? '',
    objectiveDate: row.objective_date ?? '',
    endDate: row.end_date ?? '',
    option: optionToProto(row.option),
    paymentMode: paymentModeToProto(row.payment_mode),
    paymentCode: row.payment_code,
    unitCost: row.unit_cost ?? '',
    direct: row.direct,
    curriculumIds: row.via_curricula,
    accessPropertyIds: row.via_access_properties,
    assignedAt: row.assigned_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A uuid[] as a literal, to pass arrays of arrays through unnest (as text). */
const uuidArray = (ids: string[]): string => `{${ids.join(',')}}`;

/** The existing assignments of these (user, course) pairs, locked for the transaction (in
 * key order, so that two batches never wait on each other crosswise). */
export async function lockCourseAssignments(tx: Queryable, pairs: { userId: string; courseId: string }[]): Promise<CourseAssignmentRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await tx.query<CourseAssignmentRow>(
    `SELECT c.* FROM course_assignments c
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id) ON c.user_id = p.user_id AND c.course_id = p.course_id
      ORDER BY c.user_id, c.course_id FOR UPDATE OF c`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.courseId)],
  );
  return rows;
}

function columns(states: (CourseAssignmentState & { touched?: boolean })[]): unknown[] {
  return [
    states.map((s) => s.userId),
    states.map((s) => s.courseId),
    states.map((s) => s.startDate),
    states.map((s) => s.objectiveDate),
    states.map((s) => s.endDate),
    states.map((s) => s.option),
    states.map((s) => s.paymentMode),
    states.map((s) => s.paymentCode),
    states.map((s) => s.unitCost),
    states.map((s) => s.direct),
    states.map((s) => uuidArray(s.viaCurricula)),
    states.map((s) => uuidArray(s.viaAccessProperties)),
    states.map((s) => s.touched ?? false),
  ];
}

const UNNEST = `unnest($1::uuid[], $2::uuid[], $3::date[], $4::date[], $5::date[], $6::text[], $7::text[], $8::text[], $9::numeric[],
                      $10::boolean[], $11::text[], $12::text[], $13::boolean[])
                 AS t(user_id, course_id, start_date, objective_date, end_date, option, payment_mode, payment_code, unit_cost,
                      direct, via_curricula, via_access_properties, touched)`;

/** The row an assignment in this state is, with its times. */
export function rowOf(state: CourseAssignmentState, times: { assigned_at: Date; updated_at: Date }): CourseAssignmentRow {
  return {
    user_id: state.userId,
    course_id: state.courseId,
    start_date: state.startDate,
    objective_date: state.objectiveDate,
    end_date: state.endDate,
    option: state.option,
    payment_mode: state.paymentMode,
    payment_code: state.paymentCode,
    unit_cost: state.unitCost,
    direct: state.direct,
    via_curricula: state.viaCurricula,
    via_access_properties: state.viaAccessProperties,
    ...times,
  };
}

/** Inserts assignments for the pairs that have none; returns the pairs inserted, with their
 * times (one that exists, or that another transaction inserted meanwhile, is left as it is
 * and not returned). */
export async function insertCourseAssignments(
  tx: Queryable,
  states: CourseAssignmentState[],
): Promise<{ user_id: string; course_id: string; assigned_at: Date; updated_at: Date }[]> {
  if (states.length === 0) return [];
  const { rows } = await tx.query<{ user_id: string; course_id: string; assigned_at: Date; updated_at: Date }>(
    `INSERT INTO course_assignments (user_id, course_id, start_date, objective_date, end_date, option, payment_mode, payment_code,
                                     unit_cost, direct, via_curricula, via_access_properties)
     SELECT user_id, course_id, start_date, objective_date, end_date, option, payment_mode, payment_code,
            unit_cost, direct, via_curricula::uuid[], via_access_properties::uuid[]
       FROM ${UNNEST}
     ON CONFLICT (user_id, course_id) DO NOTHING
     RETURNING user_id, course_id, assigned_at, updated_at`,
    columns(states),
  );
  return rows;
}

/** Writes the data and origins of existing assignments; `touched` ones (whose data changed)
 * get a new updated_at. */
export async function updateCourseAssignments(
  tx: Queryable,
  states: (CourseAssignmentState & { touched: boolean })[],
): Promise<CourseAssignmentRow[]> {
  if (states.length === 0) return [];
  const { rows } = await tx.query<CourseAssignmentRow>(
    `UPDATE course_assignments c
        SET start_date = t.start_date, objective_date = t.objective_date, end_date = t.end_date, option = t.option,
            payment_mode = t.payment_mode, payment_code = t.payment_code, unit_cost = t.unit_cost, direct = t.direct,
            via_curricula = t.via_curricula::uuid[], via_access_properties = t.via_access_properties::uuid[],
            updated_at = CASE WHEN t.touched THEN now() ELSE c.updated_at END
       FROM ${UNNEST}
      WHERE c.user_id = t.user_id AND c.course_id = t.course_id
      RETURNING c.*`,
    columns(states),
  );
  return rows;
}

/** Deletes the assignments of these pairs; returns them as they were. */
export async function deleteCourseAssignments(
  tx: Queryable,
  pairs: { userId: string; courseId: string }[],
): Promise<CourseAssignmentRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await tx.query<CourseAssignmentRow>(
    `DELETE FROM course_assignments c USING unnest($1::uuid[], $2::uuid[]) AS p(user_id, course_id)
      WHERE c.user_id = p.user_id AND c.course_id = p.course_id
      RETURNING c.*`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.courseId)],
  );
  return rows;
}

export async function courseAssignmentsOfUser(q: Queryable, userId: string): Promise<CourseAssignmentRow[]> {
  const { rows } = await q.query<CourseAssignmentRow>('SELECT * FROM course_assignments WHERE user_id = $1 ORDER BY course_id', [userId]);
  return rows;
}

/** One page of a course's assignments by user id, after `afterUserId`, and how many there are. */
export async function courseAssignmentsOfCourse(
  q: Queryable,
  courseId: string,
  limit: number,
  afterUserId: string | null,
): Promise<{ rows: CourseAssignmentRow[]; total: number }> {
  const [page, count] = await Promise.all([
    q.query<CourseAssignmentRow>(
      `SELECT * FROM course_assignments WHERE course_id = $1 AND ($2::uuid IS NULL OR user_id > $2::uuid)
        ORDER BY user_id LIMIT $3`,
      [courseId, afterUserId, limit],
    ),
    q.query<{ n: string }>('SELECT count(*) AS n FROM course_assignments WHERE course_id = $1', [courseId]),
  ]);
  return { rows: page.rows, total: Number(count.rows[0].n) };
}

/** The assignments that came with these (user, curriculum) pairs, locked (in key order). */
export async function lockCourseAssignmentsViaCurricula(
  tx: Queryable,
  pairs: { userId: string; curriculumId: string }[],
): Promise<CourseAssignmentRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await tx.query<CourseAssignmentRow>(
    `SELECT c.* FROM course_assignments c
      WHERE c.user_id = ANY($1::uuid[])
        AND EXISTS (SELECT 1 FROM unnest($1::uuid[], $2::uuid[]) AS p(user_id, curriculum_id)
                     WHERE p.user_id = c.user_id AND p.curriculum_id = ANY(c.via_curricula))
      ORDER BY c.user_id, c.course_id FOR UPDATE OF c`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.curriculumId)],
  );
  return rows;
}
