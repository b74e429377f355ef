import { invalidArgument, isId, itemResult } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { CatalogItem, Learner } from '@assistants/proto/gen/assignment/v1/events';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';

/** The items of a batch (the selection, frozen by the run): each once, in order. An item
 * that is not an id is not refused here: it gets its own NOT_FOUND result. */
export function itemIds(values: string[]): string[] {
  return [...new Set(values.map((v) => (isId(v) ? v.toLowerCase() : v)))];
}

/** "" or a mail template id, kept as given (the notification service knows templates). */
export function checkTemplateId(field: string, value: string): string {
  const text = value.trim();
  if (text.length > 100) throw invalidArgument(field, `${field} is longer than 100 characters`);
  return text;
}

export const pairKey = (a: string, b: string): string => `${a}|${b}`;

export interface Refusal {
  code: string;
  message: string;
}

/** Why the acting user may not act on this user, if it may not: NOT_FOUND, OUT_OF_SCOPE. */
export function userRefusal(user: UserForAction | undefined, permission: string): Refusal | null {
  if (!user?.found) return { code: 'NOT_FOUND', message: 'no such user' };
  if (!user.inScope) return { code: 'OUT_OF_SCOPE', message: `you do not hold ${permission} on this user's organisation` };
  return null;
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

/** The results of a batch: one per item and target, answered in the order of the items, and
 * for each item in the order of the targets. */
export class Results {
  private readonly byKey = new Map<string, ItemResult>();

  constructor(
    private readonly items: string[],
    private readonly targets: string[],
  ) {}

  succeeded(item: string, target: string, message = ''): void {
    this.byKey.set(pairKey(item, target), itemResult.succeeded(item, target, message));
  }

  unchanged(item: string, target: string, code: string, message: string): void {
    this.byKey.set(pairKey(item, target), itemResult.unchanged(item, target, code, message));
  }

  failed(item: string, target: string, refusal: Refusal): void {
    this.byKey.set(pairKey(item, target), itemResult.failed(item, target, refusal.code, refusal.message));
  }

  has(item: string, target: string): boolean {
    return this.byKey.has(pairKey(item, target));
  }

  list(): ItemResult[] {
    return this.items.flatMap((item) =>
      this.targets.map((target) => {
        const result = this.byKey.get(pairKey(item, target));
        if (!result) throw new Error(`no result for item ${item} and target ${target}`);
        return result;
      }),
    );
  }
}
