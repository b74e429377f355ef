import {
  alreadyExists,
  checkIds,
  checkText,
  containsPattern,
  type Emit,
  isId,
  notFound,
  Params,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import type { Competency } from '@assistants/proto/gen/catalog/v1/structure';
import type { Caller } from './caller';
import { events } from './events';
import { checkCode } from './validation';

type CompetencyRow = { id: string; code: string; name: string; description: string; created_at: Date };

const toCompetency = (row: CompetencyRow): Competency => ({
  id: row.id,
  code: row.code,
  name: row.name,
  description: row.description,
  createdAt: row.created_at.toISOString(),
});

function mapUniqueViolation(err: unknown, code: string): never {
  if (uniqueViolation(err) === 'competencies_code_key') throw alreadyExists(`a competency with the code "${code}" already exists`, 'code');
  throw err;
}

async function findCompetency(q: Queryable, id: string): Promise<CompetencyRow> {
  const rows = isId(id)
    ? (await q.query<CompetencyRow>('SELECT * FROM competencies WHERE id = $1 FOR UPDATE', [id.toLowerCase()])).rows
    : [];
  if (!rows[0]) throw notFound(`no competency with id ${JSON.stringify(id)}`, 'id');
  return rows[0];
}

export async function createCompetency(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: { code: string; name: string; description: string },
) {
  caller.requireWrite();
  const code = checkCode('code', req.code);
  try {
    const { rows } = await tx.query<CompetencyRow>('INSERT INTO competencies (code, name, description) VALUES ($1, $2, $3) RETURNING *', [
      code,
      checkText('name', req.name, { required: true, max: 255 }),
      checkText('description', req.description, { max: 4000 }),
    ]);
    const competency = toCompetency(rows[0]);
    events.competency(emit, 'created', competency);
    return competency;
  } catch (err) {
    mapUniqueViolation(err, code);
  }
}

export async function updateCompetency(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  req: { id: string; code?: string; name?: string; description?: string },
) {
  caller.requireWrite();
  const current = await findCompetency(tx, req.id);
  const next = {
    code: req.code === undefined ? current.code : checkCode('code', req.code),
    name: req.name === undefined ? current.name : checkText('name', req.name, { required: true, max: 255 }),
    description: req.description === undefined ? current.description : checkText('description', req.description, { max: 4000 }),
  };
  if (next.code === current.code && next.name === current.name && next.description === current.description) return toCompetency(current);
  try {
    const { rows } = await tx.query<CompetencyRow>(
      'UPDATE competencies SET code = $2, name = $3, description = $4 WHERE id = $1 RETURNING *',
      [current.id, next.code, next.name, next.description],
    );
    const competency = toCompetency(rows[0]);
    events.competency(emit, 'updated', competency);
    return competency;
  } catch (err) {
    mapUniqueViolation(err, next.code);
  }
}

export async function deleteCompetency(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const competency = await findCompetency(tx, id);
  await tx.query('DELETE FROM competencies WHERE id = $1', [competency.id]);
  events.competency(emit, 'deleted', toCompetency(competency));
}

/** Competencies by code; `query` ("contains" in code or name) and `ids` narrow them. */
export async function listCompetencies(q: Queryable, caller: Caller, query: string, ids: string[]): Promise<Competency[]> {
  caller.requireRead();
  const p = new Params();
  const conditions: string[] = [];
  if (query.trim() !== '') {
    const pattern = p.add(containsPattern(checkText('query', query, { max: 200 })));
    conditions.push(`(code ILIKE ${pattern} OR name ILIKE ${pattern})`);
  }
  if (ids.length > 0) conditions.push(`id = ANY(${p.add(checkIds('ids', ids))}::uuid[])`);
  const { rows } = await q.query<CompetencyRow>(
    `SELECT * FROM competencies WHERE ${conditions.join(' AND ') || 'TRUE'} ORDER BY lower(code), id`,
    p.values,
  );
  return rows.map(toCompetency);
}
