import { invalidArgument } from '@assistants/kit';

/** Keyset cursors of the runs API: the sort key of a page's last row, opaque to callers. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor holds, of these kinds part by part (numbers are integers), or a 400 on `query.after`. */
export function decodeCursor(cursor: string, kinds: ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== kinds.length ||
    key.some((part, i) => typeof part !== kinds[i] || (kinds[i] === 'number' && !Number.isSafeInteger(part)))
  ) {
    throw invalidArgument('query.after', 'query.after must be the nextCursor of a previous page');
  }
  return key as (string | number)[];
}
