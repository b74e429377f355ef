import { alreadyExists, checkText, type Emit, isId, notFound, type Queryable, uniqueViolation } from '@assistants/kit';
import type { Category } from '@assistants/proto/gen/catalog/v1/structure';
import type { Caller } from './caller';
import { loadCourses } from './courses.repo';
import { events } from './events';

type CategoryRow = { id: string; name: string; description: string; created_at: Date };

const toCategory = (row: CategoryRow): Category => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.created_at.toISOString(),
});

function mapUniqueViolation(err: unknown, name: string): never {
  if (uniqueViolation(err) === 'categories_name_key') throw alreadyExists(`a category named "${name}" already exists`, 'name');
  throw err;
}

async function findCategory(q: Queryable, id: string): Promise<CategoryRow> {
  const rows = isId(id) ? (await q.query<CategoryRow>('SELECT * FROM categories WHERE id = $1 FOR UPDATE', [id.toLowerCase()])).rows : [];
  if (!rows[0]) throw notFound(`no category with id ${JSON.stringify(id)}`, 'id');
  return rows[0];
}

export async function createCategory(tx: Queryable, emit: Emit, caller: Caller, req: { name: string; description: string }) {
  caller.requireWrite();
  const name = checkText('name', req.name, { required: true, max: 255 });
  try {
    const { rows } = await tx.query<CategoryRow>('INSERT INTO categories (name, description) VALUES ($1, $2) RETURNING *', [
      name,
      checkText('description', req.description, { max: 4000 }),
    ]);
    const category = toCategory(rows[0]);
    events.category(emit, 'created', category);
    return category;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
}

export async function updateCategory(tx: Queryable, emit: Emit, caller: Caller, req: { id: string; name?: string; description?: string }) {
  caller.requireWrite();
  const current = await findCategory(tx, req.id);
  const name = req.name === undefined ? current.name : checkText('name', req.name, { required: true, max: 255 });
  const description = req.description === undefined ? current.description : checkText('description', req.description, { max: 4000 });
  if (name === current.name && description === current.description) return toCategory(current);
  try {
    const { rows } = await tx.query<CategoryRow>('UPDATE categories SET name = $2, description = $3 WHERE id = $1 RETURNING *', [
      current.id,
      name,
      description,
    ]);
    const category = toCategory(rows[0]);
    events.category(emit, 'updated', category);
    return category;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
}

/** Deletes a category; its courses lose it (each gets catalog.course.updated.v1). */
export async function deleteCategory(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const category = await findCategory(tx, id);
  const { rows } = await tx.query<{ id: string }>(
    'UPDATE courses SET category_id = NULL, updated_at = now() WHERE category_id = $1 RETURNING id',
    [category.id],
  );
  await tx.query('DELETE FROM categories WHERE id = $1', [category.id]);
  for (const course of await loadCourses(
    tx,
    rows.map((r) => r.id),
  ))
    events.course(emit, 'updated', course);
  events.category(emit, 'deleted', toCategory(category));
}

export async function listCategories(q: Queryable, caller: Caller): Promise<Category[]> {
  caller.requireRead();
  const { rows } = await q.query<CategoryRow>('SELECT * FROM categories ORDER BY lower(name), id');
  return rows.map(toCategory);
}
