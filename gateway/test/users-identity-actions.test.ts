import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { startIdentityFixture, type IdentityFixture } from '@assistants/testing';
import type { ActionDefinition } from '../src/actions/action';
import { identityUserActions, listKeyOf } from '../src/actions/users-identity';
import type { Upstreams } from '../src/upstreams';

/** The user assistant's identity actions as the run engine calls them: parameters in, one
 * batch to identity (real service, NATS and PostgreSQL), results out. */

let fixture: IdentityFixture;
let upstreams: Upstreams;
let organisationId: string;

const action = (id: string): ActionDefinition => identityUserActions.find((a) => a.id === id)!;

const row = async (id: string) => (await fixture.identity.db.query('SELECT * FROM users WHERE id = $1', [id])).rows[0];

async function newUser(login: string) {
  const { user } = await fixture.api.users.createUser({
    fields: { login, lastName: login, firstName: 'Test', organisationId },
    audienceIds: [],
  });
  return user!.id;
}

let batches = 0;
const run = (id: string, itemIds: string[], params: unknown, runId = 'gw') =>
  action(id).apply(upstreams, itemIds, params as never, { idempotencyKey: `run:${runId}:${++batches}`, dryRun: false });

/** What the engine does to validate a run: no items, a dry run. */
const validate = (id: string, params: unknown) =>
  action(id)
    .apply(upstreams, [], params as never, { idempotencyKey: '', dryRun: true })
    .then(
      () => undefined,
      (err: unknown) => err,
    );

beforeAll(async () => {
  fixture = await startIdentityFixture('gateway_user_actions');
  // These actions talk to identity only.
  upstreams = { identity: fixture.api } as Upstreams;
  organisationId = (await fixture.api.organisations.createOrganisation({ fields: { extId: 'GW', label: 'gw' } })).organisation!.id;
});

afterAll(() => fixture?.stop());

it('declares U1-U5 and U18 for the user assistant', () => {
  expect(identityUserActions.map((a) => [a.id, a.assistant])).toEqual([
    ['U1', 'users'],
    ['U2', 'users'],
    ['U3', 'users'],
    ['U4', 'users'],
    ['U5', 'users'],
    ['U18', 'users'],
  ]);
});

it('U1: "unchanged" leaves a value as it is, "yes"/"no" and values set it, "" clears it', async () => {
  const user = await newUser('gw-u1');
  await fixture.api.users.updateUser({ id: user, fields: { twoFactor: 'never', custom4: 'old', activationDate: '2020-01-01' } });
  const { results } = await run('U1', [user], { disabled: 'yes', twoFactor: 'unchanged', custom3: 'new', custom4: '', activationDate: '' });
  expect(results.map((r) => r.outcome)).toEqual([Outcome.OUTCOME_SUCCEEDED]);
  expect(await row(user)).toMatchObject({ disabled: true, two_factor: 'never', custom3: 'new', custom4: '', activation_date: null });
  await run('U1', [user], { disabled: 'no', twoFactor: 'first_login_of_day' });
  expect(await row(user)).toMatchObject({ disabled: false, two_factor: 'first_login_of_day', custom3: 'new' });

  expect(await validate('U1', { activationDate: '2030-01-02', expirationDate: '2030-01-01' })).toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: 'expirationDate',
  });
  expect(await validate('U1', { disabled: 'no' })).toBeUndefined();
});

it('U2-U5 send their parameters to identity', async () => {
  const [user, boss] = [await newUser('gw-u2'), await newUser('gw-boss')];
  const audienceId = (await fixture.api.audiences.createAudience({ name: 'GW audience', description: '' })).audience!.id;
  const roleId = (await fixture.api.roles.createRole({ name: 'GW role', description: '', permissions: ['users:read'] })).role!.id;
  for (const [id, params] of [
    ['U2', { audienceIds: [audienceId] }],
    ['U3', { roleIds: [roleId], organisationId }],
    ['U4', { managerId: boss }],
    ['U5', { managerId: boss }],
  ] as const) {
    const { results } = await run(id, [user], params);
    expect([id, results.map((r) => r.outcome)]).toEqual([id, [Outcome.OUTCOME_SUCCEEDED]]);
  }
  expect(await row(user)).toMatchObject({ manager_id: boss, secondary_manager_id: boss });
  const { rows } = await fixture.identity.db.query('SELECT role_id, organisation_id FROM role_grants WHERE user_id = $1', [user]);
  expect(rows).toEqual([{ role_id: roleId, organisation_id: organisationId }]);
  expect(await validate('U2', { audienceIds: [roleId] })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'audienceIds[0]' });
});

it('U18: every batch of a run adds to the one list of the run', async () => {
  const users = [await newUser('gw-u18-a'), await newUser('gw-u18-b'), await newUser('gw-u18-c')];
  expect(await validate('U18', { name: 'GW saved' })).toBeUndefined();
  await run('U18', users.slice(0, 2), { name: 'GW saved', description: 'd' }, 'u18');
  await run('U18', users.slice(2), { name: 'GW saved', description: 'd' }, 'u18');
  const { rows } = await fixture.identity.db.query(
    "SELECT l.list_key, count(m.user_id)::int AS n FROM lists l JOIN list_members m ON m.list_id = l.id WHERE l.name = 'GW saved' GROUP BY l.list_key",
  );
  expect(rows).toEqual([{ list_key: 'run:u18', n: 3 }]);
  expect(await validate('U18', { name: 'gw SAVED' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
});

it('takes the run part of an idempotency key as the list key', () => {
  expect(listKeyOf({ idempotencyKey: 'run:7f3c:12', dryRun: false })).toBe('run:7f3c');
  expect(listKeyOf({ idempotencyKey: 'import-9', dryRun: false })).toBe('import-9');
  expect(listKeyOf({ idempotencyKey: '', dryRun: true })).toBe('');
});
