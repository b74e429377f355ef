import iconv from 'iconv-lite';
import { actingAs, startIdentityFixture, startImport, type IdentityFixture, type ImportClient, type TestImport } from '@assistants/testing';
import { runImport } from './helpers';

/** Import jobs through the import service and identity: counts, log, rejects, dry run,
 * idempotence, scope. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;

const orgs = async () =>
  (
    await fixture.identity.db.query<{ ext_id: string; label: string }>(
      "SELECT ext_id, label FROM organisations WHERE ext_id <> 'ROOT' ORDER BY ext_id",
    )
  ).rows;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_jobs');
  service = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_CHUNK_ROWS: '3' },
  });
  admin = actingAs(service.client, fixture.adminId);
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
});

const FILE = [
  'org_label;org_extid;parent_extid;org_city;org_supervisor_extid',
  'France;FR;;Paris;',
  'Lyon;FR-LYON;FR;Lyon;',
  'Nice;FR-NICE;FR;"Nice; ""Côte"" d\'Azur";NOBODY',
  'Nowhere;XX;NOPE;;',
  ';EMPTY;;;',
  'Marseille;FR-MRS;FR;Marseille;',
  'Lyon again;fr-lyon;FR;;',
].join('\r\n');

test('a dry run gives the counts, log and rejects of the whole file and writes nothing; the real run the same; again: all unchanged', async () => {
  const before = await orgs();
  const dry = await runImport(admin, 'organisations', FILE, { dryRun: true });
  expect(dry.upload.preview.map((c) => [c.column, c.field, c.value, c.error])).toEqual([
    ['org_label', 'label', 'France', ''],
    ['org_extid', 'extId', 'FR', ''],
    ['parent_extid', 'parentExtId', '', ''],
    ['org_city', 'city', 'Paris', ''],
    ['org_supervisor_extid', 'supervisorExtId', '', ''],
  ]);
  expect(dry.job.status).toBe('completed');
  expect(await orgs()).toEqual(before);

  const real = await runImport(admin, 'organisations', FILE);
  expect(real.job.counts).toEqual({ read: 7, added: 4, updated: 0, unchanged: 0, rejected: 3, warnings: 1 });
  // The dry run said the same (FR-MRS, in the second chunk, finds FR of the first).
  expect([dry.job.counts, dry.log, dry.rejects]).toEqual([real.job.counts, real.log, real.rejects]);
  expect(real.log.toString()).toBe(
    [
      '\uFEFFline;column;value;severity;message',
      '4;org_supervisor_extid;NOBODY;warning;"org_supervisor_extid: no user with external id ""NOBODY"": the supervisor is left as it was"',
      '5;parent_extid;NOPE;error;"parent_extid: no organisation with external id ""NOPE"""',
      '6;org_label;;error;org_label is mandatory and empty',
      '8;org_extid;fr-lyon;error;"org_extid ""fr-lyon"" is already on line 3 of the file"',
      '',
    ].join('\r\n'),
  );
  expect(real.rejects.toString()).toBe(
    [
      'org_label;org_extid;parent_extid;org_city;org_supervisor_extid;reason',
      'Nowhere;XX;NOPE;;;"parent_extid: no organisation with external id ""NOPE"""',
      ';EMPTY;;;;org_label is mandatory and empty',
      'Lyon again;fr-lyon;FR;;;"org_extid ""fr-lyon"" is already on line 3 of the file"',
      '',
    ].join('\r\n'),
  );
  expect((await orgs()).map((o) => o.ext_id)).toEqual(['FR', 'FR-LYON', 'FR-MRS', 'FR-NICE']);

  const events = await fixture.identity.db.query<{ n: string }>('SELECT count(*) AS n FROM kit_outbox');
  const again = await runImport(admin, 'organisations', FILE);
  expect(again.job.counts).toEqual({ read: 7, added: 0, updated: 0, unchanged: 4, rejected: 3, warnings: 1 });
  expect((await fixture.identity.db.query<{ n: string }>('SELECT count(*) AS n FROM kit_outbox')).rows[0].n).toBe(events.rows[0].n);
});

test('Windows-1252 files: detected, and the rejects file is in Windows-1252', async () => {
  const file = iconv.encode('org_label;org_extid;parent_extid\r\nSète;FR-SETE;FR\r\nBéziers;FR-BEZ;NOPE\r\n', 'win1252');
  const { upload, job, rejects } = await runImport(admin, 'organisations', file);
  expect([upload.encoding, upload.separator]).toEqual(['windows-1252', ';']);
  expect(job.counts).toMatchObject({ added: 1, rejected: 1 });
  expect(rejects).toEqual(
    iconv.encode(
      'org_label;org_extid;parent_extid;reason\r\nBéziers;FR-BEZ;NOPE;"parent_extid: no organisation with external id ""NOPE"""\r\n',
      'win1252',
    ),
  );
  expect((await orgs()).find((o) => o.ext_id === 'FR-SETE')?.label).toBe('Sète');
});

test('a file error: the preview says so, the job fails with it in the log', async () => {
  const { upload, job, log } = await runImport(admin, 'organisations', 'org_label;org_colour\r\nA;B\r\n');
  expect(upload.fileError).toEqual({ line: 1, message: 'unknown column "org_colour" (column 2) for Organisations imports' });
  expect(job.status).toBe('failed');
  expect(log.toString()).toContain('1;;;error;"file error: unknown column ""org_colour"" (column 2) for Organisations imports"');
});

test('options are checked; a user without imports:run is refused; another user does not see my job', async () => {
  const { uploadId } = await admin.imports.createUpload({ kind: 'organisations', fileName: 'x.csv' });
  await admin.imports.appendUpload({ uploadId, part: 0, data: Buffer.from('org_label;org_extid\nA;B\n') });
  await admin.imports.completeUpload({ uploadId, encoding: '' });
  await expect(admin.imports.startImport({ uploadId, dryRun: true, options: { updateHierarchy: 'maybe' } })).rejects.toThrow(
    'options.updateHierarchy must be true or false',
  );
  await expect(admin.imports.createUpload({ kind: 'planets', fileName: 'x.csv' })).rejects.toThrow('unknown import kind "planets"');
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'nobody', lastName: 'No', firstName: 'Body', organisationId: '00000000-0000-4000-8000-000000000001' },
    audienceIds: [],
  });
  const nobody = actingAs(service.client, user!.id);
  await expect(nobody.imports.createUpload({ kind: 'organisations', fileName: 'x.csv' })).rejects.toThrow('imports:run');
  const { job } = await admin.imports.startImport({ uploadId, dryRun: true, options: {} });
  const { role } = await fixture.api.roles.createRole({ name: 'Importer', description: '', permissions: ['imports:run'] });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: '00000000-0000-4000-8000-000000000001' });
  await expect(nobody.imports.getImport({ id: job!.id })).rejects.toThrow('no import');
});

test("a scoped administrator's import touches only its sub-tree (identity decides per row)", async () => {
  const { rows } = await fixture.identity.db.query<{ id: string }>("SELECT id FROM organisations WHERE ext_id = 'FR-LYON'");
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'lyon-admin', lastName: 'Lyon', firstName: 'Admin', organisationId: rows[0].id },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({
    name: 'Org importer',
    description: '',
    permissions: ['imports:run', 'organisations:write', 'organisations:read'],
  });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: rows[0].id });
  const scoped = actingAs(service.client, user!.id);
  const { job, rejects } = await runImport(
    scoped,
    'organisations',
    'org_label;org_extid;parent_extid\nPart-Dieu;FR-LYON-PD;FR-LYON\nParis;FR-PARIS;FR\nFrance!;FR;\n',
  );
  expect(job.counts).toMatchObject({ added: 1, rejected: 2 });
  expect(rejects.toString().split('\r\n').slice(1, 3)).toEqual([
    'Paris;FR-PARIS;FR;"parent_extid: organisation ""FR"" is outside your scope"',
    'France!;FR;;"org_extid: organisation ""FR"" is outside your scope"',
  ]);
  expect((await orgs()).find((o) => o.ext_id === 'FR')?.label).toBe('France');
});

test('an importer without the permission the rows need: every row rejected with the reason, the job ends', async () => {
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'importer-only', lastName: 'Importer', firstName: 'Only', organisationId: '00000000-0000-4000-8000-000000000001' },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({ name: 'Importer only', description: '', permissions: ['imports:run'] });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: '00000000-0000-4000-8000-000000000001' });
  const { job, rejects } = await runImport(actingAs(service.client, user!.id), 'organisations', 'org_label;org_extid\nA;NOPE-A\n');
  expect(job).toMatchObject({ status: 'completed', counts: { read: 1, rejected: 1 } });
  expect(rejects.toString()).toContain('A;NOPE-A;this needs the permission organisations:write');
});

test('an upload of 1 MiB parts is stored compressed with lz4 where the server has it (pglz otherwise) and read back byte for byte', async () => {
  // The server's build says whether it has lz4: the values default_toast_compression takes.
  const {
    rows: [{ lz4 }],
  } = await service.db.query<{ lz4: boolean }>(
    "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'",
  );
  const { rows } = await service.db.query<{ attcompression: string }>(
    "SELECT attcompression FROM pg_attribute WHERE attrelid = 'upload_parts'::regclass AND attname = 'data'",
  );
  expect(rows[0].attcompression).toBe(lz4 ? 'l' : '');
  const csv = Buffer.from(['org_label;org_extid', ...Array.from({ length: 60_000 }, (_, i) => `Société ${i};LZ-${i}`)].join('\n'));
  const { uploadId } = await admin.imports.createUpload({ kind: 'organisations', fileName: 'big.csv' });
  for (let part = 0; part * 1024 * 1024 < csv.length; part++) {
    await admin.imports.appendUpload({ uploadId, part, data: csv.subarray(part * 1024 * 1024, (part + 1) * 1024 * 1024) });
  }
  const stored = await service.db.query<{ data: Buffer; compressed: string }>(
    'SELECT data, pg_column_compression(data) AS compressed FROM upload_parts WHERE upload_id = $1 ORDER BY part',
    [uploadId],
  );
  expect(stored.rows.map((r) => r.compressed)).toEqual(lz4 ? ['lz4', 'lz4'] : ['pglz', 'pglz']);
  expect(Buffer.concat(stored.rows.map((r) => r.data)).equals(csv)).toBe(true);
});
