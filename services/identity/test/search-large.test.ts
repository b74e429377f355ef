import type { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { type IdentityClient, type IdentityFixture, startIdentityFixture } from '@assistants/testing';
import type { Queryable } from '@assistants/kit';
import { Caller } from '../src/caller';
import { searchUsers } from '../src/user-selection';
import { actorWithin, filter } from './helpers';

/** More matches than a page sorts at once (5,000): the page is found by walking the name
 * index, or, when the matches sit together in the alphabet, by sorting them all anyway. */
let fixture: IdentityFixture;
let api: IdentityClient;
let big: string;
const SPREAD = 6_000;
const CLUSTERED = 5_500;

beforeAll(async () => {
  fixture = await startIdentityFixture('search_large');
  ({ api } = fixture);
  big = (await api.organisations.createOrganisation({ fields: { extId: 'BIG', label: 'Big' } })).organisation!.id;
  // By SQL: 11,500 users through the API would take minutes. "Aamot…" come first in name
  // order, "Zzyzx…" last.
  const names = [
    ...Array.from({ length: SPREAD }, (_, i) => ['Aamot', `A${String(i).padStart(5, '0')}`]),
    ...Array.from({ length: CLUSTERED }, (_, i) => ['Zzyzx', `Z${String(i).padStart(5, '0')}`]),
  ];
  await fixture.identity.db.query(
    `INSERT INTO users (login, last_name, first_name, organisation_id)
     SELECT lower(n || f), n, f, $3 FROM unnest($1::text[], $2::text[]) AS t(n, f)`,
    [names.map((n) => n[0]), names.map((n) => n[1]), big],
  );
  // The planner's estimates choose the path: as autovacuum would leave them.
  await fixture.identity.db.query('ANALYZE user_search');
}, 120_000);

afterAll(() => fixture?.stop());

/** The ids of the enabled users whose last name starts with `prefix`, in name order. */
async function inNameOrder(prefix: string): Promise<string[]> {
  const { rows } = await fixture.identity.db.query<{ id: string }>(
    `SELECT id FROM users WHERE last_name LIKE $1 AND NOT disabled ORDER BY last_name, first_name, id`,
    [`${prefix}%`],
  );
  return rows.map((r) => r.id);
}

async function pages(f: Partial<UserFilter>, count: number, limit: number) {
  const seen: string[] = [];
  const totals: number[] = [];
  let after = '';
  for (let i = 0; i < count; i++) {
    const page = await api.users.searchUsers({ filter: filter(f), page: { limit, offset: 0, after } });
    seen.push(...page.users.map((u) => u.id));
    totals.push(page.total);
    after = page.nextCursor;
  }
  return { seen, totals, after };
}

it('11,500 matches spread from the start of the alphabet: exact total, pages in name order by cursor and by offset', async () => {
  const expected = [...(await inNameOrder('Aamot')), ...(await inNameOrder('Zzyzx'))];
  const { seen, totals, after } = await pages({ organisationId: big }, 3, 100);
  expect(totals).toEqual([11_500, 11_500, 11_500]);
  expect(seen).toEqual(expected.slice(0, 300));
  expect(after).not.toBe('');
  const deep = await api.users.searchUsers({ filter: filter({ organisationId: big }), page: { limit: 50, offset: 5_990, after: '' } });
  expect(deep.users.map((u) => u.id)).toEqual(expected.slice(5_990, 6_040));
});

it('5,500 matches at the end of the alphabet: the walk finds none of them, every match is sorted', async () => {
  const expected = await inNameOrder('Zzyzx');
  const { seen, totals } = await pages({ lastName: 'zzyzx' }, 2, 100);
  expect(totals).toEqual([CLUSTERED, CLUSTERED]);
  expect(seen).toEqual(expected.slice(0, 200));
});

it("a scoped administrator's search with more than 5,000 matches in its scope: same pages and totals", async () => {
  const scoped = await actorWithin(fixture, [big], ['users:read']);
  const expected = [...(await inNameOrder('Aamot')), ...(await inNameOrder('Zzyzx'))];
  const page = await scoped.users.searchUsers({ filter: filter({ organisationId: big }), page: { limit: 100, offset: 0, after: '' } });
  expect(page.total).toBe(11_500);
  expect(page.users.map((u) => u.id)).toEqual(expected.slice(0, 100));
  const clustered = await scoped.users.searchUsers({ filter: filter({ lastName: 'zzyzx' }), page: { limit: 100, offset: 0, after: '' } });
  expect(clustered.total).toBe(CLUSTERED);
  expect(clustered.users.map((u) => u.id)).toEqual((await inNameOrder('Zzyzx')).slice(0, 100));
  const selected = await scoped.users.resolveUserSelection({
    selection: { filter: filter({ lastName: 'aamot' }), excludeIds: expected.slice(0, 2) },
    page: { limit: 50, offset: 0, after: '' },
  });
  expect(selected.total).toBe(SPREAD - 2);
  expect(selected.users.map((u) => u.id)).toEqual(expected.slice(2, 52));
});

it('a filter estimated before 6,000 users matched it, searched again at once: the estimate kept, the total and pages exact', async () => {
  const planned: string[] = [];
  const db = fixture.identity.db;
  const counting: Queryable = {
    query: ((text: unknown, values?: unknown[]) => {
      const sql = typeof text === 'string' ? text : (text as { text: string }).text;
      if (sql.startsWith('EXPLAIN')) planned.push(sql);
      return db.query(text as string, values);
    }) as Queryable['query'],
  };
  const search = () => searchUsers(counting, Caller.system, filter({ lastName: 'quux' }), { limit: 100, offset: 0, after: '' });
  expect((await search()).total).toBe(0);
  expect((await search()).total).toBe(0);
  expect(planned).toHaveLength(1); // the second search used the first one's estimate

  await db.query(
    `INSERT INTO users (login, last_name, first_name, organisation_id)
     SELECT 'quux' || i, 'Quux', 'Q' || lpad(i::text, 5, '0'), $1 FROM generate_series(1, 6000) AS i`,
    [big],
  );
  await db.query('ANALYZE user_search');
  // The estimate kept says none match: the path for a few, which finds more than it sorts.
  const page = await search();
  expect(planned).toHaveLength(1);
  expect(page.total).toBe(6_000);
  expect(page.items.map((u) => u.id)).toEqual((await inNameOrder('Quux')).slice(0, 100));
});
