import { invalidArgument, isId, type Queryable } from '@assistants/kit';
import type { OrganisationForAction } from '@assistants/proto/gen/identity/v1/organisations';
import type { Caller } from './caller';

/** At most this many organisations per call (another service's objects, a page at a time). */
export const MAX_ORGANISATIONS_FOR_ACTION = 1_000;

/** For another service that places its objects in the tree (the assessment service's tests):
 * each organisation, whether the caller holds `permission` on it, and its ancestors (from the
 * tree path), so that the other service can match its objects against the caller's grants
 * without asking again. An unknown or malformed id: found false. */
export async function getOrganisationsForAction(
  q: Queryable,
  caller: Caller,
  organisationIds: string[],
  permission: string,
): Promise<OrganisationForAction[]> {
  if (permission === '') throw invalidArgument('permission', 'permission is required');
  const scope = caller.scope(permission);
  if (organisationIds.length > MAX_ORGANISATIONS_FOR_ACTION) {
    throw invalidArgument('organisationIds', `at most ${MAX_ORGANISATIONS_FOR_ACTION} organisation ids per call`);
  }
  const ids = organisationIds.filter(isId).map((id) => id.toLowerCase());
  const { rows } = await q.query<{ id: string; label: string; path: string }>(
    'SELECT id, label, path FROM organisations WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return organisationIds.map((id) => {
    const row = byId.get(id.toLowerCase());
    if (!row) return { id, found: false, inScope: false, label: '', ancestorIds: [] };
    return {
      id: row.id,
      found: true,
      inScope: scope.includesPath(row.path),
      label: row.label,
      ancestorIds: row.path.split('/').filter(Boolean),
    };
  });
}
