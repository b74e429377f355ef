import type { CatalogClient } from '@assistants/catalog/client';
import { learnerOf, type IdentityClient } from '@assistants/identity/client';
import { invalidArgument } from '@assistants/kit';
import type { Learner } from '@assistants/proto/gen/statistics/v1/common';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** The services the statistics service asks: identity (users of a batch and whether the
 * acting user may act on them) and catalog (the competencies of U20, the course of S1).
 * Each is asked once per batch, never once per item. */
export interface Upstreams {
  identity: IdentityClient;
  catalog: CatalogClient;
}

export { requireUserInScope, userRefusal, usersForAction } from '@assistants/identity/client';

/** The competencies of `ids`, refusing the parameter `field` when one is unknown. */
export async function requireCompetencies(catalog: CatalogClient, ids: string[], field: string): Promise<void> {
  if (ids.length === 0) return;
  const { competencies } = await catalog.structure.listCompetencies({ query: '', ids });
  const known = new Set(competencies.map((c) => c.id.toLowerCase()));
  ids.forEach((id, i) => {
    if (!known.has(id)) throw invalidArgument(`${field}[${i}]`, `no competency with id ${id}`);
  });
}

export const toLearner = (user: UserForAction): Learner => learnerOf(user);
