import type { Queryable } from '@assistants/kit';
import type { CurriculumAssignment } from '@assistants/proto/gen/assignment/v1/common';
import { optionToProto, type Option } from './values';

export type CurriculumAssignmentRow = {
  user_id: string;
  curriculum_id: string;
  start_date: string | null;
  objective_date: string | null;
  end_date: string | null;
  option: Option;
  direct: boolean;
  via_access_properties: string[];
  assigned_at: Date;
  updated_at: Date;
};

/** A curriculum assignment as the commands handle it. */
export interface CurriculumAssignmentState {
  userId: string;
  curriculumId: string;
  startDate: string | null;
  objectiveDate: string | null;
  endDate: string | null;
  option: Option;
  direct: boolean;
  viaAccessProperties: string[];
}

export function curriculumStateOf(row: CurriculumAssignmentRow): CurriculumAssignmentState {
  return {
    userId: row.user_id,
    curriculumId: row.curriculum_id,
    startDate: row.start_date,
    objectiveDate: row.objective_date,
    endDate: row.end_date,
    option: row.option,
    direct: row.direct,
    viaAccessProperties: row.via_access_properties,
  };
}

export function toCurriculumAssignment(row: CurriculumAssignmentRow): CurriculumAssignment {
  return {
    userId: row.user_id,
    curriculumId: row.curriculum_id,
    startDate: row.start_date ?? '',
    objectiveDate: row.objective_date ?? '',
    endDate: row.end_date ?? '',
    option: optionToProto(row.option),
    direct: row.direct,
    accessPropertyIds: row.via_access_properties,
    assignedAt: row.assigned_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const uuidArray = (ids: string[]): string => `{${ids.join(',')}}`;

type Pair = { userId: string; curriculumId: string };

/** The existing assignments of these pairs, locked (in key order). */
export async function lockCurriculumAssignments(tx: Queryable, pairs: Pair[]): Promise<CurriculumAssignmentRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await tx.query<CurriculumAssignmentRow>(
    `SELECT c.* FROM curriculum_assignments c
       JOIN unnest($1::uuid[], $2::uuid[]) AS p(user_id, curriculum_id) ON c.user_id = p.user_id AND c.curriculum_id = p.curriculum_id
      ORDER BY c.user_id, c.curriculum_id FOR UPDATE OF c`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.curriculumId)],
  );
  return rows;
}

function columns(states: (CurriculumAssignmentState & { touched?: boolean })[]): unknown[] {
  return [
    states.map((s) => s.userId),
    states.map((s) => s.curriculumId),
    states.map((s) => s.startDate),
    states.map((s) => s.objectiveDate),
    states.map((s) => s.endDate),
    states.map((s) => s.option),
    states.map((s) => s.direct),
    states.map((s) => uuidArray(s.viaAccessProperties)),
    states.map((s) => s.touched ?? false),
  ];
}

const UNNEST = `unnest($1::uuid[], $2::uuid[], $3::date[], $4::date[], $5::date[], $6::text[], $7::boolean[], $8::text[], $9::boolean[])
                 AS t(user_id, curriculum_id, start_date, objective_date, end_date, option, direct, via_access_properties, touched)`;

/** Inserts new assignments; returns those inserted. */
export async function insertCurriculumAssignments(tx: Queryable, states: CurriculumAssignmentState[]): Promise<CurriculumAssignmentRow[]> {
  if (states.length === 0) return [];
  const { rows } = await tx.query<CurriculumAssignmentRow>(
    `INSERT INTO curriculum_assignments (user_id, curriculum_id, start_date, objective_date, end_date, option, direct, via_access_properties)
     SELECT user_id, curriculum_id, start_date, objective_date, end_date, option, direct, via_access_properties::uuid[] FROM ${UNNEST}
     ON CONFLICT (user_id, curriculum_id) DO NOTHING
     RETURNING *`,
    columns(states),
  );
  return rows;
}

/** Writes the data and origins of existing assignments (touched: data changed). */
export async function updateCurriculumAssignments(
  tx: Queryable,
  states: (CurriculumAssignmentState & { touched: boolean })[],
): Promise<CurriculumAssignmentRow[]> {
  if (states.length === 0) return [];
  const { rows } = await tx.query<CurriculumAssignmentRow>(
    `UPDATE curriculum_assignments c
        SET start_date = t.start_date, objective_date = t.objective_date, end_date = t.end_date, option = t.option,
            direct = t.direct, via_access_properties = t.via_access_properties::uuid[],
            updated_at = CASE WHEN t.touched THEN now() ELSE c.updated_at END
       FROM ${UNNEST}
      WHERE c.user_id = t.user_id AND c.curriculum_id = t.curriculum_id
      RETURNING c.*`,
    columns(states),
  );
  return rows;
}

export async function deleteCurriculumAssignments(tx: Queryable, pairs: Pair[]): Promise<CurriculumAssignmentRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await tx.query<CurriculumAssignmentRow>(
    `DELETE FROM curriculum_assignments c USING unnest($1::uuid[], $2::uuid[]) AS p(user_id, curriculum_id)
      WHERE c.user_id = p.user_id AND c.curriculum_id = p.curriculum_id
      RETURNING c.*`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.curriculumId)],
  );
  return rows;
}

export async function curriculumAssignmentsOfUser(q: Queryable, userId: string): Promise<CurriculumAssignmentRow[]> {
  const { rows } = await q.query<CurriculumAssignmentRow>(
    'SELECT * FROM curriculum_assignments WHERE user_id = $1 ORDER BY curriculum_id',
    [userId],
  );
  return rows;
}
