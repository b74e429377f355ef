import { TemplateContext } from '@assistants/proto/gen/notification/v1/templates';
import {
  actingAs,
  startIdentityFixture,
  startImport,
  startNotification,
  startSmtpSink,
  type IdentityFixture,
  type ImportClient,
  type SmtpSink,
  type TestImport,
  type TestNotification,
} from '@assistants/testing';
import { runImport } from './helpers';

/** I2 users through the import service and identity. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;
let notification: TestNotification;
let smtp: SmtpSink;
const ROOT = '00000000-0000-4000-8000-000000000001';

const user = async (login: string) =>
  (
    await fixture.identity.db.query<Record<string, any>>(
      `SELECT u.*, o.ext_id AS org, m.login AS manager,
              (SELECT array_agg(a.name ORDER BY a.name) FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = u.id) AS audiences,
              (SELECT array_agg(r.name || ':' || go.ext_id ORDER BY r.name) FROM role_grants g JOIN roles r ON r.id = g.role_id
                 JOIN organisations go ON go.id = g.organisation_id WHERE g.user_id = u.id) AS roles,
              (SELECT array_agg(l.name) FROM list_members lm JOIN lists l ON l.id = lm.list_id WHERE lm.user_id = u.id) AS lists
         FROM users u JOIN organisations o ON o.id = u.organisation_id LEFT JOIN users m ON m.id = u.manager_id WHERE u.login = $1`,
      [login],
    )
  ).rows[0];
/** How many events identity ever stored (the outbox sequence). */
const published = async () => {
  await fixture.identity.flushEvents();
  return Number((await fixture.identity.db.query<{ n: string }>('SELECT last_value AS n FROM kit_outbox_seq_seq')).rows[0]?.n ?? 0);
};

beforeAll(async () => {
  fixture = await startIdentityFixture('import_users');
  smtp = await startSmtpSink();
  notification = await startNotification({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    smtpPort: smtp.port,
  });
  service = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    notificationAddress: notification.address,
  });
  admin = actingAs(service.client, fixture.adminId);
  const { organisation: fr } = await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR', label: 'France' } });
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'FR-LYON', label: 'Lyon', parentId: fr!.id } });
  await fixture.api.organisations.createOrganisation({ fields: { extId: 'US', label: 'USA' } });
  await fixture.api.audiences.createAudience({ name: 'Sales', description: '' });
  await fixture.api.audiences.createAudience({ name: 'Managers', description: '' });
  await fixture.api.roles.createRole({ name: 'Viewer', description: '', permissions: ['users:read'] });
  await fixture.api.lists.createList({
    name: 'Newcomers',
    description: '',
    type: 'static',
    folderId: '',
    memberIds: [],
    ownerOrganisationId: ROOT,
  });
});
afterAll(async () => {
  await service?.stop();
  await notification?.stop();
  await smtp?.stop();
  await fixture?.stop();
});

const HEADER =
  'user_lname;user_fname;user_login;user_password;org_extid;user_extid;user_manager_extid;user_audiences;user_roles;List_name;user_udtf1';
const FILE = [
  HEADER,
  'Martin;Claire;cmartin;Secret-pass-1234;FR-LYON;E1;E3;Sales||Managers;Viewer:FR;Newcomers;2024',
  'Durand;Paul;pdurand;;FR;E2;NOBODY;;;;',
  'Petit;Anne;apetit;Secret-pass-5678;FR;E3;;;;;',
  'Nowhere;Ned;nned;Secret-pass-0000;XX;E4;;;;;',
].join('\r\n');

test('creates users: password or generated, managers further down the file, audiences, roles, lists; warnings and errors', async () => {
  const { job, log } = await runImport(admin, 'users', FILE, { options: { generatePasswords: 'true' } });
  expect(job.counts).toEqual({ read: 4, added: 3, updated: 0, unchanged: 0, rejected: 1, warnings: 1 });
  // A manager not found waits for the end of the file (it may be further down): its warning
  // comes after the chunks' lines.
  expect(log.toString().split('\r\n').slice(1, -1)).toEqual([
    '5;org_extid;XX;error;"org_extid: no organisation with external id ""XX"""',
    '3;user_manager_extid;NOBODY;warning;"user_manager_extid: no user with external id ""NOBODY"": the manager is left as it was"',
  ]);
  const claire = await user('cmartin');
  expect(claire).toMatchObject({
    org: 'FR-LYON',
    manager: 'apetit',
    audiences: ['Managers', 'Sales'],
    roles: ['Viewer:FR'],
    lists: ['Newcomers'],
  });
  expect(claire).toMatchObject({ custom1: '2024', must_change_password: true, externally_managed: false });
  const paul = await user('pdurand');
  expect(paul.password_hash).toMatch(/^\$argon2id\$/);
  expect(await user('nned')).toBeUndefined();
});

test('the same file again: every row unchanged, nothing written, no event', async () => {
  const seq = await published();
  const { job } = await runImport(admin, 'users', FILE, { options: { generatePasswords: 'true' } });
  expect(job.counts).toEqual({ read: 4, added: 0, updated: 0, unchanged: 3, rejected: 1, warnings: 1 });
  expect(await published()).toBe(seq);
});

test('updates: only the filled cells, passwords kept unless asked, create only, replace audiences', async () => {
  const hash = (await user('cmartin')).password_hash;
  const file = `user_lname;user_fname;user_login;user_password;org_extid;user_udtf1;user_audiences\nMartin;Claire;cmartin;Other-pass-9999;FR;;Sales\n`;
  const kept = await runImport(admin, 'users', file);
  expect(kept.job.counts).toMatchObject({ updated: 1 });
  expect(await user('cmartin')).toMatchObject({ org: 'FR', custom1: '2024', audiences: ['Managers', 'Sales'], password_hash: hash });

  const createOnly = await runImport(admin, 'users', file.replace(';FR;', ';FR-LYON;'), { options: { updateExisting: 'false' } });
  expect(createOnly.job.counts).toMatchObject({ unchanged: 1 });
  expect((await user('cmartin')).org).toBe('FR');

  const cleared = await runImport(admin, 'users', file, {
    options: { onlyFilledCells: 'false', replaceAudiences: 'true', updatePasswords: 'true' },
  });
  expect(cleared.job.counts).toMatchObject({ updated: 1 });
  const after = await user('cmartin');
  expect([after.custom1, after.audiences]).toEqual(['', ['Sales']]);
  expect(after.password_hash).not.toBe(hash);
});

test('a user whose audiences alone change is updated: its updated_at moves, its cells stay', async () => {
  const before = await user('cmartin');
  const file = `user_lname;user_fname;user_login;org_extid;user_audiences\nMartin;Claire;cmartin;FR;Managers\n`;
  const run = await runImport(admin, 'users', file, { options: { replaceAudiences: 'true' } });
  expect(run.job.counts).toMatchObject({ updated: 1 });
  const after = await user('cmartin');
  expect(after.audiences).toEqual(['Managers']);
  expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
  expect([after.last_name, after.org, after.custom1, after.password_hash]).toEqual([
    before.last_name,
    before.org,
    before.custom1,
    before.password_hash,
  ]);
});

test("a scoped administrator's import: users and roles only within its scope", async () => {
  const { rows } = await fixture.identity.db.query<{ id: string }>("SELECT id FROM organisations WHERE ext_id = 'FR'");
  const { user: scoped } = await fixture.api.users.createUser({
    fields: { login: 'fr-admin', lastName: 'Fr', firstName: 'Admin', organisationId: rows[0].id },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'FR importer',
    description: '',
    permissions: ['imports:run', 'users:read', 'users:write', 'roles:grant', 'organisations:read'],
  });
  await fixture.api.roles.grantRoles({ userIds: [scoped!.id], roleIds: [role!.id], organisationId: rows[0].id });
  const client = actingAs(service.client, scoped!.id);
  const file = [
    'user_lname;user_fname;user_login;user_password;org_extid;user_roles',
    'In;Scope;inscope;Secret-pass-1111;FR;Viewer:FR-LYON',
    'Out;Side;outside;Secret-pass-2222;US;',
    'Role;Out;roleout;Secret-pass-3333;FR;Viewer:US',
  ].join('\n');
  const { job, rejects } = await runImport(client, 'users', file);
  expect(job.counts).toMatchObject({ added: 1, rejected: 2 });
  expect(rejects.toString().split('\r\n').slice(1, 3)).toEqual([
    'Out;Side;outside;Secret-pass-2222;US;;"org_extid: organisation ""US"" is outside your scope"',
    'Role;Out;roleout;Secret-pass-3333;FR;Viewer:US;"user_roles: organisation ""US"" is outside your scope"',
  ]);
  expect(await user('outside')).toBeUndefined();
  expect(await user('roleout')).toBeUndefined();
});

test('a generated password goes only to the welcome mail; the user must change it', async () => {
  const { template } = await actingAs(notification.client, fixture.adminId).templates.createTemplate({
    template: {
      name: 'Welcome',
      context: TemplateContext.TEMPLATE_CONTEXT_WELCOME,
      defaultLanguage: 'en-EN',
      variants: [{ language: 'en-EN', subject: 'Welcome {{ user.first_name }}', html: '', text: 'Password: {{ password }}' }],
    },
  });
  const file = 'user_lname;user_fname;user_login;user_password;org_extid;user_email\nNew;Comer;newcomer;;FR;newcomer@example.com\n';
  const missing = await admin.imports.createUpload({ kind: 'users', fileName: 'u.csv' });
  await admin.imports.appendUpload({ uploadId: missing.uploadId, part: 0, data: Buffer.from(file) });
  await admin.imports.completeUpload({ uploadId: missing.uploadId, encoding: '' });
  await expect(
    admin.imports.startImport({ uploadId: missing.uploadId, dryRun: false, options: { sendWelcomeMail: 'true' } }),
  ).rejects.toThrow('options.welcomeTemplateId is required');
  const { job, log } = await runImport(admin, 'users', file, {
    options: { generatePasswords: 'true', sendWelcomeMail: 'true', welcomeTemplateId: template!.id },
  });
  expect(job.counts).toMatchObject({ added: 1, rejected: 0 });
  expect(log.toString().split('\r\n').slice(1, -1)).toEqual([]);
  await smtp.waitFor(1);
  const password = /Password: (\S+)/.exec(smtp.received[0]!.text ?? '')![1];
  expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
  const created = await user('newcomer');
  expect(created.must_change_password).toBe(true);
  const session = await fixture.client.auth.createSession({ login: 'newcomer', password });
  expect(session.token).toBeTruthy();
  // Nowhere else: not in the import's log, rejects or tables.
  const dump = await fixture.identity.db.query("SELECT string_agg(t::text, ' ') AS all FROM import.job_chunks t");
  expect(dump.rows[0].all ?? '').not.toContain(password);
});

test('the passwords of a chunk are hashed together; a password too short rejects its row only', async () => {
  const rows = Array.from({ length: 6 }, (_, i) => `Batch;User ${i};batch-${i};${i === 3 ? 'short' : `Long-enough-pass-${i}`};FR`);
  const { job, log } = await runImport(admin, 'users', ['user_lname;user_fname;user_login;user_password;org_extid', ...rows].join('\n'));
  expect(job.counts).toMatchObject({ read: 6, added: 5, rejected: 1 });
  // The log never shows a password.
  expect(log.toString()).toMatch(/\r\n5;user_password;\(hidden\);error;user_password must have at least \d+ characters\r\n/);
  const session = await fixture.client.auth.createSession({ login: 'batch-4', password: 'Long-enough-pass-4' });
  expect(session.token).toBeTruthy();
});

test('matched on the external id: a repeated external id is a file error of its row, a login another row took fails in identity', async () => {
  const file = [
    'user_lname;user_fname;user_login;user_password;org_extid;user_extid',
    'Key;One;key-one;Secret-pass-1111;FR;K1',
    'Key;Two;key-two;Secret-pass-2222;FR;k1',
    'Key;Three;key-one;Secret-pass-3333;FR;K3',
  ].join('\n');
  const { job, log } = await runImport(admin, 'users', file, { options: { matchOn: 'extId' } });
  expect(job.counts).toMatchObject({ read: 3, added: 1, rejected: 2 });
  expect(log.toString().split('\r\n').slice(1, -1)).toEqual([
    '3;user_extid;k1;error;"user_extid ""k1"" is already on line 2 of the file"',
    '4;user_login;key-one;error;"login ""key-one"" is already used by another user"',
  ]);
  expect((await user('key-one')).ext_id).toBe('K1');
});

test('rows failing their checks are not written and do not fail their neighbours; an externally managed user changes only through the import', async () => {
  const file = [
    'user_lname;user_fname;user_login;user_password;org_extid;user_extid;user_manager_extid;user_activation_date;user_expiration_date',
    'Ok;First;ok-first;Secret-pass-4444;FR;OK1;;;',
    'Bad;Dates;bad-dates;Secret-pass-5555;FR;BAD1;;2025/01/01;2024/01/01',
    'Own;Manager;own-manager;Secret-pass-6666;FR;OWN1;OWN1;;',
    'Ok;Second;ok-second;Secret-pass-7777;FR;OK2;OK1;;',
  ].join('\n');
  const { job, log } = await runImport(admin, 'users', file, { options: { externallyManaged: 'true' } });
  expect(job.counts).toMatchObject({ read: 4, added: 2, rejected: 2 });
  expect(log.toString().split('\r\n').slice(1, -1)).toEqual([
    '3;user_expiration_date;2024/01/01;error;expirationDate (2024-01-01) is before activationDate (2025-01-01)',
    '4;user_manager_extid;OWN1;error;a user cannot be their own manager',
  ]);
  expect(await user('bad-dates')).toBeUndefined();
  expect(await user('own-manager')).toBeUndefined();
  expect(await user('ok-second')).toMatchObject({ manager: 'ok-first', externally_managed: true });
  // A scoped administrator without users:write-external may not change it.
  const { rows } = await fixture.identity.db.query<{ id: string }>("SELECT id FROM users WHERE login = 'fr-admin'");
  const scoped = actingAs(service.client, rows[0].id);
  const change = await runImport(scoped, 'users', 'user_lname;user_fname;user_login;org_extid;user_udtf2\nOk;First;ok-first;FR;changed\n');
  expect(change.job.counts).toMatchObject({ rejected: 1 });
  expect(change.log.toString()).toContain('is managed by an external system');
  expect((await user('ok-first')).custom2).toBe('');
});
