import { invalidArgument, type Row } from '@assistants/kit';
import type { Page } from '@assistants/proto/gen/identity/v1/common';
import type pg from 'pg';

export type PageRequest = Page | undefined;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function checkPage(page: PageRequest): { limit: number; offset: number } {
  const limit = page?.limit || DEFAULT_PAGE_SIZE;
  if (limit > MAX_PAGE_SIZE) throw invalidArgument('page.limit', `page.limit must be at most ${MAX_PAGE_SIZE}`);
  return { limit, offset: page?.offset ?? 0 };
}

/** One page of rows and the exact total, queried side by side. */
export async function pageOf<R extends Row, T>(
  page: PageRequest,
  query: {
    items: (limit: number, offset: number) => Promise<pg.QueryResult<R>>;
    count: () => Promise<pg.QueryResult<{ n: string }>>;
    map: (row: R) => T;
  },
): Promise<{ items: T[]; total: number }> {
  const { limit, offset } = checkPage(page);
  const [items, count] = await Promise.all([query.items(limit, offset), query.count()]);
  return { items: items.rows.map(query.map), total: Number(count.rows[0].n) };
}
