import { learnerOf } from '@assistants/identity/client';
import type { CatalogItem, Learner } from '@assistants/proto/gen/assignment/v1/events';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** The audience rule: a course or curriculum with audiences goes only to users who share
 * one of them. */
export function sharesAudience(userAudienceIds: string[], objectAudienceIds: string[]): boolean {
  if (objectAudienceIds.length === 0) return true;
  const mine = new Set(userAudienceIds.map((id) => id.toLowerCase()));
  return objectAudienceIds.some((id) => mine.has(id.toLowerCase()));
}

export const toLearner = (user: UserForAction): Learner => learnerOf(user);

export const catalogItem = (o: { id: string; code: string; name: string }): CatalogItem => ({ id: o.id, code: o.code, name: o.name });

// The batch helpers every service shares live in the kit (items.ts).
export { checkTemplateId, itemIds, pairKey, Results, type Refusal } from '@assistants/kit';
export { userRefusal } from '@assistants/identity/client';
