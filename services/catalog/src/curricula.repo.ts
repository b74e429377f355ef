import { isId, notFound, type Queryable } from '@assistants/kit';
import type { Curriculum, CurriculumSummary } from '@assistants/proto/gen/catalog/v1/curricula';

export type CurriculumRow = {
  id: string;
  code: string;
  name: string;
  description: string;
  disabled: boolean;
  audience_ids: string[];
  free_text1: string;
  free_text2: string;
  custom1: string;
  custom2: string;
  custom3: string;
  custom4: string;
  custom5: string;
  custom6: string;
  custom7: string;
  custom8: string;
  custom9: string;
  custom10: string;
  folder_id: string | null;
  created_at: Date;
  updated_at: Date;
};

export function toCurriculum(row: CurriculumRow, courseIds: string[]): Curriculum {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    disabled: row.disabled,
    audienceIds: row.audience_ids,
    courseIds,
    freeText1: row.free_text1,
    freeText2: row.free_text2,
    custom1: row.custom1,
    custom2: row.custom2,
    custom3: row.custom3,
    custom4: row.custom4,
    custom5: row.custom5,
    custom6: row.custom6,
    custom7: row.custom7,
    custom8: row.custom8,
    custom9: row.custom9,
    custom10: row.custom10,
    folderId: row.folder_id ?? '',
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type CurriculumSummaryRow = Pick<CurriculumRow, 'id' | 'code' | 'name' | 'disabled' | 'audience_ids'> & { course_count: number };

export function toCurriculumSummary(row: CurriculumSummaryRow): CurriculumSummary {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    disabled: row.disabled,
    audienceIds: row.audience_ids,
    courseCount: row.course_count,
  };
}

/** The curricula with these ids, with their ordered course ids, in the order of `ids`
 * (unknown ids and non-ids left out). Two statements. */
export async function loadCurricula(q: Queryable, ids: string[]): Promise<Curriculum[]> {
  const wanted = [...new Set(ids.filter(isId).map((id) => id.toLowerCase()))];
  if (wanted.length === 0) return [];
  const [curricula, courses] = await Promise.all([
    q.query<CurriculumRow>('SELECT * FROM curricula WHERE id = ANY($1::uuid[])', [wanted]),
    q.query<{ curriculum_id: string; course_id: string }>(
      'SELECT curriculum_id, course_id FROM curriculum_courses WHERE curriculum_id = ANY($1::uuid[]) ORDER BY curriculum_id, position',
      [wanted],
    ),
  ]);
  const byCurriculum = new Map<string, string[]>();
  for (const row of courses.rows) {
    const list = byCurriculum.get(row.curriculum_id) ?? [];
    list.push(row.course_id);
    byCurriculum.set(row.curriculum_id, list);
  }
  const byId = new Map(curricula.rows.map((row) => [row.id, toCurriculum(row, byCurriculum.get(row.id) ?? [])]));
  return wanted.flatMap((id) => byId.get(id) ?? []);
}

/** A curriculum by id or code; NOT_FOUND naming `field` otherwise. */
export async function findCurriculumRow(
  q: Queryable,
  ref: { id?: string; code?: string },
  field = 'id',
  lock = false,
): Promise<CurriculumRow> {
  const forUpdate = lock ? ' FOR UPDATE' : '';
  let rows: CurriculumRow[] = [];
  if (ref.id) {
    if (isId(ref.id))
      rows = (await q.query<CurriculumRow>(`SELECT * FROM curricula WHERE id = $1${forUpdate}`, [ref.id.toLowerCase()])).rows;
  } else if (ref.code) {
    rows = (await q.query<CurriculumRow>(`SELECT * FROM curricula WHERE lower(code) = lower($1)${forUpdate}`, [ref.code])).rows;
  }
  if (!rows[0]) throw notFound(`no curriculum ${JSON.stringify(ref.id || ref.code || '')}`, field);
  return rows[0];
}
