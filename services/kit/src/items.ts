import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { itemResult } from './batch';
import { isId } from './validation';

/** The items of a batch (the selection, frozen by the run): each once, in order. An item
 * that is not an id is not refused here: it gets its own NOT_FOUND result. */
export function itemIds(values: string[]): string[] {
  return [...new Set(values.map((v) => (isId(v) ? v.toLowerCase() : v)))];
}

export const pairKey = (a: string, b: string): string => `${a}|${b}`;

/** Why an item (and target) is not acted on: a stable code and a sentence. */
export interface Refusal {
  code: string;
  message: string;
}

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
