import type { Queryable } from '@assistants/kit';
import type { MailContext, TemplateInput, Variant } from './templates';

export interface TemplateRow {
  id: string;
  name: string;
  context: MailContext;
  defaultLanguage: string;
  variants: Variant[];
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `id, name, context, default_language AS "defaultLanguage", variants,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertTemplate(db: Queryable, input: TemplateInput): Promise<TemplateRow> {
  const { rows } = await db.query<TemplateRow & Record<string, unknown>>(
    `INSERT INTO mail_templates (name, context, default_language, variants) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [input.name, input.context, input.defaultLanguage, JSON.stringify(input.variants)],
  );
  return rows[0]!;
}

export async function updateTemplateRow(db: Queryable, id: string, input: TemplateInput): Promise<TemplateRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<TemplateRow & Record<string, unknown>>(
    `UPDATE mail_templates SET name = $2, context = $3, default_language = $4, variants = $5, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, input.name, input.context, input.defaultLanguage, JSON.stringify(input.variants)],
  );
  return rows[0];
}

export async function findTemplate(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<TemplateRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM mail_templates WHERE id = $1`, [id]);
  return rows[0];
}

/** The templates among `ids` that exist, by id. */
export async function findTemplates(db: Queryable, ids: string[]): Promise<Map<string, TemplateRow>> {
  const valid = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (valid.length === 0) return new Map();
  const { rows } = await db.query<TemplateRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM mail_templates WHERE id = ANY($1::uuid[])`,
    [valid],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export async function deleteTemplateRow(db: Queryable, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const { rowCount } = await db.query('DELETE FROM mail_templates WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** One page in name order; the cursor is the last row's id. */
export async function listTemplateRows(
  db: Queryable,
  context: MailContext | undefined,
  limit: number,
  after: string,
): Promise<{ rows: TemplateRow[]; nextCursor: string }> {
  const { rows } = await db.query<TemplateRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM mail_templates
     WHERE ($1::text IS NULL OR context = $1)
       AND ($2::uuid IS NULL OR (name, id) > (SELECT name, id FROM mail_templates WHERE id = $2))
     ORDER BY name, id LIMIT $3`,
    [context ?? null, UUID.test(after) ? after : null, limit + 1],
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: more ? page[page.length - 1]!.id : '' };
}
