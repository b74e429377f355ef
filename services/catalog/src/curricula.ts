import { alreadyExists, checkId, checkText, type Emit, invalidArgument, Params, type Queryable, uniqueViolation } from '@assistants/kit';
import type {
  CreateCurriculumRequest,
  Curriculum,
  CurriculumFields,
  UpdateCurriculumRequest,
} from '@assistants/proto/gen/catalog/v1/curricula';
import type { Audiences } from './audiences';
import type { Caller } from './caller';
import { sameValue } from './courses';
import { findCurriculumRow, loadCurricula } from './curricula.repo';
import { events } from './events';
import { findFolderRow } from './folders.repo';
import { checkCode } from './validation';

const text = (max: number) => (field: string, value: string) => checkText(field, value, { max });
type Spec<K extends keyof CurriculumFields> = {
  column: string;
  check: (field: string, value: NonNullable<CurriculumFields[K]>) => unknown;
};

const FIELDS: { [K in keyof CurriculumFields]-?: Spec<K> } = {
  code: { column: 'code', check: checkCode },
  name: { column: 'name', check: (f, v) => checkText(f, v, { required: true, max: 255 }) },
  description: { column: 'description', check: text(4000) },
  disabled: { column: 'disabled', check: (_f, v) => v },
  freeText1: { column: 'free_text1', check: text(4000) },
  freeText2: { column: 'free_text2', check: text(4000) },
  custom1: { column: 'custom1', check: text(255) },
  custom2: { column: 'custom2', check: text(255) },
  custom3: { column: 'custom3', check: text(255) },
  custom4: { column: 'custom4', check: text(255) },
  custom5: { column: 'custom5', check: text(255) },
  custom6: { column: 'custom6', check: text(255) },
  custom7: { column: 'custom7', check: text(255) },
  custom8: { column: 'custom8', check: text(255) },
  custom9: { column: 'custom9', check: text(255) },
  custom10: { column: 'custom10', check: text(255) },
  folderId: { column: 'folder_id', check: (f, v) => checkId(f, v, true) || null },
};

/** The columns a CurriculumFields sets, with their checked values (absent fields left out). */
export function curriculumFieldColumns(fields: CurriculumFields): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(FIELDS) as [keyof CurriculumFields, Spec<keyof CurriculumFields>][]) {
    const value = fields[key];
    if (value !== undefined) values.set(spec.column, (spec.check as (f: string, v: unknown) => unknown)(key, value));
  }
  return values;
}

/** curriculumFieldColumns, and the folder checked to be a curriculum folder. */
async function curriculumColumns(q: Queryable, fields: CurriculumFields): Promise<Map<string, unknown>> {
  const values = curriculumFieldColumns(fields);
  const folderId = values.get('folder_id');
  if (typeof folderId === 'string') {
    const folder = await findFolderRow(q, folderId, 'folderId');
    if (folder.kind !== 'curriculum') throw invalidArgument('folderId', 'folderId must be a curriculum folder');
  }
  return values;
}

/** The courses of a curriculum, checked: ids of existing courses, each once, in order. */
async function checkCourses(q: Queryable, courseIds: string[]): Promise<string[]> {
  const seen = new Map<string, number>();
  const ids = courseIds.map((id, i) => {
    const checked = checkId(`courseIds[${i}]`, id);
    const first = seen.get(checked);
    if (first !== undefined) throw invalidArgument(`courseIds[${i}]`, `courseIds[${i}] repeats courseIds[${first}]`);
    seen.set(checked, i);
    return checked;
  });
  if (ids.length === 0) return ids;
  const { rows } = await q.query<{ id: string }>('SELECT id FROM courses WHERE id = ANY($1::uuid[])', [ids]);
  const known = new Set(rows.map((r) => r.id));
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing >= 0) throw invalidArgument(`courseIds[${missing}]`, `courseIds[${missing}]: no course with id ${ids[missing]}`);
  return ids;
}

async function setCourses(tx: Queryable, curriculumId: string, courseIds: string[]): Promise<void> {
  await tx.query('DELETE FROM curriculum_courses WHERE curriculum_id = $1', [curriculumId]);
  await tx.query(
    `INSERT INTO curriculum_courses (curriculum_id, course_id, position)
     SELECT $1, c.id, c.n FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)`,
    [curriculumId, courseIds],
  );
}

function mapUniqueViolation(err: unknown, values: Map<string, unknown>): never {
  if (uniqueViolation(err) === 'curricula_code_key') {
    throw alreadyExists(`a curriculum with the unique id "${values.get('code')}" already exists`, 'code');
  }
  throw err;
}

export async function createCurriculum(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  audiences: Audiences,
  req: CreateCurriculumRequest,
): Promise<Curriculum> {
  caller.requireWrite();
  const fields = req.fields ?? {};
  for (const required of ['code', 'name'] as const) {
    if (fields[required] === undefined) throw invalidArgument(required, `${required} is required`);
  }
  const values = await curriculumColumns(tx, fields);
  const courseIds = await checkCourses(tx, req.courseIds);
  values.set('audience_ids', [...(await audiences.requireExisting('audienceIds', req.audienceIds))].sort());
  const p = new Params();
  const columns = [...values.keys()];
  let id: string;
  try {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO curricula (${columns.join(', ')}) VALUES (${columns.map((c) => p.add(values.get(c))).join(', ')}) RETURNING id`,
      p.values,
    );
    id = rows[0].id;
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  await setCourses(tx, id, courseIds);
  const curriculum = (await loadCurricula(tx, [id]))[0];
  events.curriculum(emit, 'created', curriculum);
  return curriculum;
}

export async function getCurriculum(q: Queryable, caller: Caller, ref: { id: string; code: string }): Promise<Curriculum> {
  caller.requireRead();
  if (!ref.id && !ref.code) throw invalidArgument('id', 'id or code is required');
  const row = await findCurriculumRow(q, ref, ref.id ? 'id' : 'code');
  return (await loadCurricula(q, [row.id]))[0];
}

export async function updateCurriculum(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  audiences: Audiences,
  req: UpdateCurriculumRequest,
): Promise<Curriculum> {
  caller.requireWrite();
  const current = await findCurriculumRow(tx, { id: req.id }, 'id', true);
  const values = await curriculumColumns(tx, req.fields ?? {});
  if (req.replaceAudiences) values.set('audience_ids', [...(await audiences.requireExisting('audienceIds', req.audienceIds))].sort());
  const before = (await loadCurricula(tx, [current.id]))[0];
  const courseIds = req.replaceCourses ? await checkCourses(tx, req.courseIds) : undefined;
  const coursesChanged = courseIds !== undefined && !sameValue(before.courseIds, courseIds);
  const changed = [...values.entries()].filter(([column, value]) => !sameValue((current as Record<string, unknown>)[column], value));
  if (changed.length === 0 && !coursesChanged) return before;
  const p = new Params();
  const assignments = [...changed.map(([column, value]) => `${column} = ${p.add(value)}`), 'updated_at = now()'];
  try {
    await tx.query(`UPDATE curricula SET ${assignments.join(', ')} WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  if (coursesChanged) await setCourses(tx, current.id, courseIds);
  const curriculum = (await loadCurricula(tx, [current.id]))[0];
  events.curriculum(emit, 'updated', curriculum);
  return curriculum;
}

export async function deleteCurriculum(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const row = await findCurriculumRow(tx, { id }, 'id', true);
  const curriculum = (await loadCurricula(tx, [row.id]))[0];
  await tx.query('DELETE FROM curricula WHERE id = $1', [row.id]);
  events.curriculum(emit, 'deleted', curriculum);
}
