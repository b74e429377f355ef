import { actingAs, startIdentityFixture, startImport, type IdentityFixture, type ImportClient, type TestImport } from '@assistants/testing';
import { documentationPage, sampleFile } from '../src/engine';
import { staticListsKind } from '../src/kinds/static-lists';
import { runImport } from './helpers';

/** I7 static lists through the import service and identity. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;
let fr: string;

const members = async (name: string) =>
  (
    await fixture.identity.db.query<{ folder: string; owner: string; members: string[] | null }>(
      `SELECT f.name AS folder, o.ext_id AS owner,
              (SELECT array_agg(u.login ORDER BY u.login) FROM list_members m JOIN users u ON u.id = m.user_id WHERE m.list_id = l.id) AS members
         FROM lists l JOIN list_folders f ON f.id = l.folder_id JOIN organisations o ON o.id = l.owner_organisation_id
        WHERE l.name = $1`,
      [name],
    )
  ).rows[0];
/** How many events identity ever stored (the outbox sequence). */
const published = async () => {
  await fixture.identity.flushEvents();
  return Number((await fixture.identity.db.query<{ n: string }>('SELECT last_value AS n FROM kit_outbox_seq_seq')).rows[0]?.n ?? 0);
};
const lines = (file: Buffer) => file.toString().split('\r\n').slice(1, -1);

beforeAll(async () => {
  fixture = await startIdentityFixture('import_static_lists');
  // Chunks of two rows: a list the first chunk creates is used by the next ones.
  service = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_CHUNK_ROWS: '2' },
  });
  admin = actingAs(service.client, fixture.adminId);
  fr = (await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } })).organisation!.id;
  const us = (await fixture.api.organisations.createOrganisation({ fields: { extId: 'US', label: 'USA' } })).organisation!.id;
  for (const [login, extId, organisationId] of [
    ['anna', 'E1', fr],
    ['bob', 'E2', fr],
    ['carl', 'E3', us],
  ]) {
    await fixture.api.users.createUser({ fields: { login, extId, lastName: login, firstName: login, organisationId }, audienceIds: [] });
  }
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
});

const FILE = ['USER;LISTE_NAME', 'E1;Newcomers', 'E2;Newcomers', 'E3;Newcomers', 'NOBODY;Newcomers', 'E1;Managers'].join('\r\n');

test('the sample file and the documentation page say the two columns and the header option', () => {
  expect(sampleFile(staticListsKind)).toBe('\uFEFFUSER;LISTE_NAME\r\nEMP-0042;Newcomers 2024\r\n');
  const page = documentationPage(staticListsKind);
  expect(page).toContain('# I7 Static lists import');
  expect(page).toContain('With the option `header` false, the file has no header row');
  expect(page).toContain('| `matchOn` | extId, login | `extId` |');
});

test('a dry run gives the counts of the real run and creates no list; the real run adds the members, lists made in Default', async () => {
  const dry = await runImport(admin, 'static-lists', FILE, { dryRun: true });
  expect(dry.upload.previewLine).toBe(2);
  expect(dry.upload.preview.map((c) => [c.column, c.value])).toEqual([
    ['USER', 'E1'],
    ['LISTE_NAME', 'Newcomers'],
  ]);
  expect(await members('Newcomers')).toBeUndefined();
  expect(await members('Managers')).toBeUndefined();

  const real = await runImport(admin, 'static-lists', FILE);
  expect(real.job.counts).toEqual({ read: 5, added: 4, updated: 0, unchanged: 0, rejected: 1, warnings: 0 });
  expect([dry.job.counts, dry.log, dry.rejects]).toEqual([real.job.counts, real.log, real.rejects]);
  expect(lines(real.log)).toEqual(['5;USER;NOBODY;error;"USER: no user with external id ""NOBODY"""']);
  expect(lines(real.rejects)).toEqual(['NOBODY;Newcomers;"USER: no user with external id ""NOBODY"""']);
  expect(await members('Newcomers')).toEqual({ folder: 'Default', owner: 'ROOT', members: ['anna', 'bob', 'carl'] });
  expect(await members('Managers')).toMatchObject({ folder: 'Default', members: ['anna'] });
});

test('the same file again: every row unchanged, no event', async () => {
  const seq = await published();
  const { job } = await runImport(admin, 'static-lists', FILE);
  expect(job.counts).toEqual({ read: 5, added: 0, updated: 0, unchanged: 4, rejected: 1, warnings: 0 });
  expect(await published()).toBe(seq);
});

test('on logins, without a header row: every row is data, USER then LISTE_NAME', async () => {
  const file = 'anna;Login list\nCARL;Login list\nE2;Login list\n';
  const { upload, job, log, rejects } = await runImport(admin, 'static-lists', file, { options: { matchOn: 'login', header: 'false' } });
  // The preview reads a first row that names no column as data.
  expect([upload.previewLine, upload.preview.map((c) => c.value)]).toEqual([1, ['anna', 'Login list']]);
  expect(job.counts).toMatchObject({ read: 3, added: 2, rejected: 1 });
  expect(lines(log)).toEqual(['3;USER;E2;error;"USER: no user with login ""E2"""']);
  // No header row in the file: none in the rejects either.
  expect(rejects.toString()).toBe('E2;Login list;"USER: no user with login ""E2"""\r\n');
  expect((await members('Login list')).members).toEqual(['anna', 'carl']);

  // With the header option left true, the same file's first row is a wrong header.
  const strict = await runImport(admin, 'static-lists', file, { options: { matchOn: 'login' } });
  expect(strict.job.status).toBe('failed');
  expect(strict.job.fileError?.message).toBe('unknown column "anna" (column 1) for Static lists imports');
});

test("a scoped administrator's import: users of its scope only; the lists it creates are its own", async () => {
  const { user: scoped } = await fixture.api.users.createUser({
    fields: { login: 'fr-admin', lastName: 'Fr', firstName: 'Admin', organisationId: fr },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'FR list importer',
    description: '',
    permissions: ['imports:run', 'lists:write', 'lists:read', 'users:read'],
  });
  await fixture.api.roles.grantRoles({ userIds: [scoped!.id], roleIds: [role!.id], organisationId: fr });
  const file = ['USER;LISTE_NAME', 'E1;France team', 'E3;France team', 'E2;Newcomers'].join('\n');
  const { job, rejects } = await runImport(actingAs(service.client, scoped!.id), 'static-lists', file);
  expect(job.counts).toMatchObject({ added: 1, rejected: 2 });
  expect(lines(rejects)).toEqual([
    'E3;France team;"USER: user ""E3"" is outside your scope"',
    'E2;Newcomers;"LISTE_NAME: list ""Newcomers"" is outside your scope"',
  ]);
  expect(await members('France team')).toEqual({ folder: 'Default', owner: 'FR', members: ['anna'] });
});
