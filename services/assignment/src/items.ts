import { invalidArgument } from '@assistants/kit';
import type { CatalogItem, Learner } from '@assistants/proto/gen/assignment/v1/events';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** "" or a mail template id, kept as given (the notification service knows templates). */
export function checkTemplateId(field: string, value: string): string {
  const text = value.trim();
  if (text.length > 100) throw invalidArgument(field, `${field} is longer than 100 characters`);
  return text;
}

/** The audience rule: a course or curriculum with audiences goes only to users who share
 * one of them. */
export function sharesAudience(userAudienceIds: string[], objectAudienceIds: string[]): boolean {
  if (objectAudienceIds.length === 0) return true;
  const mine = new Set(userAudienceIds.map((id) => id.toLowerCase()));
  return objectAudienceIds.some((id) => mine.has(id.toLowerCase()));
}

export function toLearner(user: UserForAction): Learner {
  return {
    id: user.id.toLowerCase(),
    login: user.login,
    firstName: user.firstName,
    lastName: user.lastName,
    title: user.title,
    email: user.email,
    language: user.language,
    organisationId: user.organisationId,
    organisationName: user.organisationName,
    managerId: user.managerId,
    managerName: user.managerName,
  };
}

export const catalogItem = (o: { id: string; code: string; name: string }): CatalogItem => ({ id: o.id, code: o.code, name: o.name });

// The batch helpers every service shares live in the kit (items.ts).
export { itemIds, pairKey, Results, type Refusal } from '@assistants/kit';
export { userRefusal } from '@assistants/identity/client';
