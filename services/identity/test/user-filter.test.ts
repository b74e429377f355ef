import { containsPattern, Params } from '@assistants/kit';
import type { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { checkUserFilter, userFilterCondition, type UserRows } from '../src/user-filter';
import { filter, refusal } from './helpers';

const ORG = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';

const TEXT_COLUMNS: [keyof UserFilter, string][] = [
  ['lastName', 'last_name'],
  ['firstName', 'first_name'],
  ['login', 'login'],
  ['email', 'email'],
  ['extId', 'ext_id'],
  ['custom1', 'custom1'],
  ['custom2', 'custom2'],
  ['custom3', 'custom3'],
  ['custom4', 'custom4'],
  ['custom5', 'custom5'],
  ['custom6', 'custom6'],
  ['custom7', 'custom7'],
  ['custom8', 'custom8'],
  ['custom9', 'custom9'],
  ['custom10', 'custom10'],
];

/** The condition and parameters a filter gives, from a fresh Params. */
function condition(f: Partial<UserFilter>, alias?: string, rows?: UserRows) {
  const p = new Params();
  const sql = userFilterCondition(filter(f), p, alias, rows);
  return { sql, values: p.values };
}

describe('checkUserFilter', () => {
  it('gives back a well-formed filter as it is', () => {
    const f = filter({ lastName: 'dup', custom1: '2024', match: 'any', organisationId: ORG, includeSubOrganisations: true });
    expect(checkUserFilter(f)).toBe(f);
    for (const match of ['', 'all', 'any']) expect(checkUserFilter(filter({ match })).match).toBe(match);
  });

  it('requires a filter, naming the field it was given as', () => {
    expect(refusal(() => checkUserFilter(undefined))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'filter',
      message: 'filter is required',
    });
    expect(refusal(() => checkUserFilter(undefined, 'criteria'))).toMatchObject({ field: 'criteria', message: 'criteria is required' });
  });

  it('refuses an unknown match mode', () => {
    for (const match of ['most', 'ALL', 'or']) {
      expect(refusal(() => checkUserFilter(filter({ match }), 'selection.filter'))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'selection.filter.match',
      });
    }
  });

  it('refuses a criterion longer than 200 characters, naming it', () => {
    for (const key of [...TEXT_COLUMNS.map(([k]) => k), 'audience'] as (keyof UserFilter)[]) {
      expect(checkUserFilter(filter({ [key]: 'x'.repeat(200) }))).toBeDefined();
      const err = refusal(() => checkUserFilter(filter({ [key]: 'x'.repeat(201) })));
      expect({ key, field: err.field, message: err.message }).toEqual({
        key,
        field: `filter.${key}`,
        message: `filter.${key} is longer than 200 characters`,
      });
    }
  });

  it('refuses an organisation that is not an id, and a sub-tree without organisation', () => {
    expect(refusal(() => checkUserFilter(filter({ organisationId: 'NORTH' })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'filter.organisationId',
    });
    expect(refusal(() => checkUserFilter(filter({ includeSubOrganisations: true }), 'criteria'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'criteria.includeSubOrganisations',
    });
  });
});

describe('userFilterCondition', () => {
  /** The text criteria on user_search rows, as written for users rows. */
  const viaSearch = (criteria: string) => `u.id IN (SELECT fs.id FROM user_search fs WHERE ${criteria})`;

  it('without criteria: every enabled user, or everyone', () => {
    for (const rows of ['users', 'user_search'] as const) {
      expect(condition({}, 'u', rows)).toEqual({ sql: 'NOT u.disabled', values: [] });
      expect(condition({ match: 'any' }, 'u', rows)).toEqual({ sql: 'NOT u.disabled', values: [] });
      expect(condition({ includeDisabled: true }, 'u', rows)).toEqual({ sql: 'TRUE', values: [] });
      // Blank criteria are unused.
      expect(condition({ lastName: '   ', audience: ' ' }, 'u', rows)).toEqual({ sql: 'NOT u.disabled', values: [] });
    }
  });

  it('ALL: the criteria joined with AND, then the disabled restriction', () => {
    expect(condition({ lastName: 'DUP', custom1: '2024', match: 'all' }, 'u', 'user_search')).toEqual({
      sql: '(u.lower_last_name LIKE lower($1) AND u.lower_custom1 LIKE lower($2)) AND NOT u.disabled',
      values: ['%DUP%', '%2024%'],
    });
    // "" is ALL too.
    expect(condition({ lastName: 'DUP', custom1: '2024' }, 'u', 'user_search').sql).toBe(
      '(u.lower_last_name LIKE lower($1) AND u.lower_custom1 LIKE lower($2)) AND NOT u.disabled',
    );
    // On users, the text criteria are looked up in user_search, together.
    expect(condition({ lastName: 'DUP', custom1: '2024' })).toEqual({
      sql: `(${viaSearch('fs.lower_last_name LIKE lower($1) AND fs.lower_custom1 LIKE lower($2)')}) AND NOT u.disabled`,
      values: ['%DUP%', '%2024%'],
    });
  });

  it('ANY: the criteria joined with OR, the disabled restriction still applying to all of them', () => {
    expect(condition({ lastName: 'DUP', custom1: '2024', match: 'any' }, 'u', 'user_search')).toEqual({
      sql: '(u.lower_last_name LIKE lower($1) OR u.lower_custom1 LIKE lower($2)) AND NOT u.disabled',
      values: ['%DUP%', '%2024%'],
    });
    expect(condition({ lastName: 'DUP', custom1: '2024', match: 'any', includeDisabled: true }, 'u', 'user_search')).toEqual({
      sql: '(u.lower_last_name LIKE lower($1) OR u.lower_custom1 LIKE lower($2))',
      values: ['%DUP%', '%2024%'],
    });
    expect(condition({ lastName: 'DUP', custom1: '2024', match: 'any', includeDisabled: true })).toEqual({
      sql: `(${viaSearch('fs.lower_last_name LIKE lower($1) OR fs.lower_custom1 LIKE lower($2)')})`,
      values: ['%DUP%', '%2024%'],
    });
  });

  it('looks each text criterion up in the folded copy of its column, trimmed, in a fixed order', () => {
    for (const [key, column] of TEXT_COLUMNS) {
      expect(condition({ [key]: ' abc ', includeDisabled: true }, 'u', 'user_search')).toEqual({
        sql: `(u.lower_${column} LIKE lower($1))`,
        values: ['%abc%'],
      });
    }
    const all = Object.fromEntries(TEXT_COLUMNS.map(([key], i) => [key, `v${i}`]));
    const { sql, values } = condition({ ...all, includeDisabled: true }, 'u', 'user_search');
    expect(sql).toBe(`(${TEXT_COLUMNS.map(([, column], i) => `u.lower_${column} LIKE lower($${i + 1})`).join(' AND ')})`);
    expect(values).toEqual(TEXT_COLUMNS.map((_, i) => `%v${i}%`));
  });

  it('matches audiences by name, through the user’s audiences', () => {
    const audience = 'u.id IN (SELECT fa.user_id FROM user_audiences fa JOIN audiences a ON a.id = fa.audience_id WHERE a.name ILIKE $2)';
    expect(condition({ audience: 'Sales', lastName: 'x', match: 'any' }, 'u', 'user_search')).toEqual({
      sql: `(u.lower_last_name LIKE lower($1) OR ${audience}) AND NOT u.disabled`,
      values: ['%x%', '%Sales%'],
    });
    expect(condition({ audience: 'Sales', lastName: 'x', match: 'any' })).toEqual({
      sql: `(${viaSearch('fs.lower_last_name LIKE lower($1)')} OR ${audience}) AND NOT u.disabled`,
      values: ['%x%', '%Sales%'],
    });
  });

  it('restricts to one organisation, or to its sub-tree, on top of ANY', () => {
    expect(condition({ organisationId: ORG })).toEqual({ sql: 'NOT u.disabled AND u.organisation_id = $1', values: [ORG] });
    expect(condition({ organisationId: ORG, includeSubOrganisations: true, includeDisabled: true })).toEqual({
      sql: "u.organisation_id IN (SELECT d.id FROM organisations d JOIN organisations top ON d.path LIKE top.path || '%' WHERE top.id = $1)",
      values: [ORG],
    });
    expect(condition({ lastName: 'a', email: 'b', match: 'any', organisationId: ORG }, 'u', 'user_search')).toEqual({
      sql: '(u.lower_last_name LIKE lower($1) OR u.lower_email LIKE lower($2)) AND NOT u.disabled AND u.organisation_id = $3',
      values: ['%a%', '%b%', ORG],
    });
  });

  it('uses the alias it is given and numbers its parameters after those already there', () => {
    const p = new Params();
    p.add('list-id');
    const sql = userFilterCondition(filter({ login: 'jd', organisationId: ORG }), p, 'x');
    expect(sql).toBe(
      '(x.id IN (SELECT fs.id FROM user_search fs WHERE fs.lower_login LIKE lower($2))) AND NOT x.disabled AND x.organisation_id = $3',
    );
    expect(p.values).toEqual(['list-id', '%jd%', ORG]);
    const q = new Params();
    expect(userFilterCondition(filter({ login: 'jd', includeDisabled: true }), q, 'x', 'user_search')).toBe(
      '(x.lower_login LIKE lower($1))',
    );
  });

  it('matches % and _ and \\ literally', () => {
    expect(condition({ lastName: '50%_off\\', includeDisabled: true }, 'u', 'user_search')).toEqual({
      sql: '(u.lower_last_name LIKE lower($1))',
      values: ['%50\\%\\_off\\\\%'],
    });
    expect(containsPattern('%')).toBe('%\\%%');
    expect(containsPattern('a_b')).toBe('%a\\_b%');
    expect(containsPattern("Form'Action")).toBe("%Form'Action%");
  });
});
