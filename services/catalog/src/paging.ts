import { invalidArgument } from '@assistants/kit';
import type { Page } from '@assistants/proto/gen/catalog/v1/common';

export type PageRequest = Page | undefined;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** The deepest offset page: past it, keyset paging (Page.after). */
export const MAX_OFFSET = 10_000;
const MAX_CURSOR_LENGTH = 4_000;

/** A page's size and offset, and where it starts when it follows a cursor (Page.after, from
 * a previous page's next_cursor) instead of an offset. */
export function checkKeysetPage(
  page: PageRequest,
  isKey: (key: string[]) => boolean,
): { limit: number; offset: number; after: string[] | undefined } {
  const limit = page?.limit || DEFAULT_PAGE_SIZE;
  if (limit > MAX_PAGE_SIZE) throw invalidArgument('page.limit', `page.limit must be at most ${MAX_PAGE_SIZE}`);
  const offset = page?.offset ?? 0;
  if (offset > MAX_OFFSET) {
    throw invalidArgument('page.offset', `page.offset must be at most ${MAX_OFFSET}: to read further, page with page.after (next_cursor)`);
  }
  const cursor = page?.after ?? '';
  if (cursor === '') return { limit, offset, after: undefined };
  if (offset !== 0) throw invalidArgument('page.offset', 'page.offset must be 0 when page.after is given');
  const after = cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor) ? decodeCursor(cursor) : undefined;
  if (!after || !isKey(after)) throw invalidArgument('page.after', 'page.after must be the next_cursor of a previous page');
  return { limit, offset, after };
}

/** The cursor of a page that ends at a row with this sort key: opaque to callers. */
export function encodeCursor(key: string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): string[] | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(key) && key.every((part) => typeof part === 'string' && !part.includes('\u0000')) ? key : undefined;
  } catch {
    return undefined;
  }
}
