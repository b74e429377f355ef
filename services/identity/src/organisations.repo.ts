import { checkId, notFound, Params, type Queryable } from '@assistants/kit';
import type { Organisation } from '@assistants/proto/gen/identity/v1/organisations';
import type { ResolvedScope } from './scope';

export type OrganisationRow = {
  id: string;
  ext_id: string;
  label: string;
  parent_id: string | null;
  path: string;
  disabled: boolean;
  description: string;
  language: string;
  address_line1: string;
  address_line2: string;
  zip: string;
  city: string;
  country: string;
  code: string;
  budget: string | null;
  supervisor_id: string | null;
  children_count: string;
  created_at: Date;
  updated_at: Date;
};

export const ORGANISATION_SELECT = `
  SELECT o.*, (SELECT count(*) FROM organisations c WHERE c.parent_id = o.id) AS children_count
  FROM organisations o`;

export function toOrganisation(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    extId: row.ext_id,
    label: row.label,
    parentId: row.parent_id ?? '',
    disabled: row.disabled,
    description: row.description,
    language: row.language,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    zip: row.zip,
    city: row.city,
    country: row.country,
    code: row.code,
    budget: row.budget ?? '',
    supervisorId: row.supervisor_id ?? '',
    depth: row.path.split('/').length - 3,
    childrenCount: Number(row.children_count),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function loadOrganisations(q: Queryable, ids: string[]): Promise<OrganisationRow[]> {
  const { rows } = await q.query<OrganisationRow>(`${ORGANISATION_SELECT} WHERE o.id = ANY($1)`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** An organisation the scope can see, by id or external id; NOT_FOUND otherwise. */
export async function findOrganisation(
  q: Queryable,
  scope: ResolvedScope,
  ref: { id?: string; extId?: string },
  field = 'id',
  lock = false,
): Promise<OrganisationRow> {
  const p = new Params();
  const where = ref.id ? `o.id = ${p.add(checkId(field, ref.id))}` : `lower(o.ext_id) = lower(${p.add(ref.extId ?? '')})`;
  const { rows } = await q.query<OrganisationRow>(
    `${ORGANISATION_SELECT} WHERE ${where} AND ${scope.pathCondition(p, 'o.path')}${lock ? ' FOR UPDATE OF o' : ''}`,
    p.values,
  );
  if (rows.length === 0) {
    throw notFound(ref.id ? `no organisation with id ${ref.id}` : `no organisation with external id "${ref.extId}"`, field);
  }
  return rows[0];
}
