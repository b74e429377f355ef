import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { ADMIN, basic, startStack, type TestStack } from '@assistants/testing';

/** CSV imports through the gateway: sample file, upload and preview, options, dry run and
 * real run, progress and result, log and rejects files, authentication, scope. */
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_IMPORT_MAX_FILE_BYTES: '3000000' }, {}, { importEnv: { IMPORT_CHUNK_ROWS: '2' } });
});
afterAll(() => stack?.stop());

async function upload(kind: string, file: string | Buffer, auth = stack.adminAuth, query = '') {
  const form = new FormData();
  form.append('file', new Blob([typeof file === 'string' ? Buffer.from(file) : file]), `${kind}.csv`);
  const response = await fetch(`${stack.url}/v1/imports/kinds/${kind}/uploads${query}`, {
    method: 'POST',
    headers: { authorization: auth },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function finished(id: string, auth = stack.adminAuth) {
  for (;;) {
    const { body } = await stack.http('GET', `/v1/imports/${id}`, { auth });
    if (body.status === 'completed' || body.status === 'failed') return body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const download = async (path: string, auth = stack.adminAuth) => {
  const response = await fetch(`${stack.url}${path}`, { headers: { authorization: auth } });
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
};

test('every import route needs authentication', async () => {
  expect((await stack.http('GET', '/v1/imports/kinds/users/sample.csv', { auth: null })).status).toBe(401);
  expect((await upload('organisations', 'org_label;org_extid\nA;B\n', 'Basic eDp5')).status).toBe(401);
  expect((await stack.http('POST', '/v1/imports', { auth: null, body: { uploadId: '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b' } })).status).toBe(
    401,
  );
  expect((await stack.http('GET', '/v1/imports/3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b/log.csv', { auth: null })).status).toBe(401);
});

test('sample file and documentation page of a kind, from its declaration', async () => {
  const sample = await download('/v1/imports/kinds/users/sample.csv');
  expect(sample.status).toBe(200);
  const [header] = sample.bytes.toString('utf8').slice(1).split('\r\n');
  expect(header.split(';')).toHaveLength(37);
  expect(header.startsWith('user_lname;user_fname;user_tname;user_login;user_password;org_extid')).toBe(true);
  const page = await download('/v1/imports/kinds/organisations/documentation.md');
  expect(page.bytes.toString()).toContain('| `updateHierarchy` | true / false | `false` |');
  expect((await stack.http('GET', '/v1/imports/kinds/planets/sample.csv')).status).toBe(400);
});

test('upload → preview, options, dry run, real run, progress, log and rejects (Windows-1252 kept)', async () => {
  const file = iconv.encode(
    'org_label;org_extid;parent_extid;org_disabled\r\nFrance;FR;;0\r\nSète;FR-SETE;FR;oui\r\nNîmes;FR-NIMES;FR;\r\nNowhere;XX;NOPE;\r\n',
    'win1252',
  );
  const up = await upload('organisations', file);
  expect(up.status).toBe(201);
  expect(up.body).toMatchObject({ encoding: 'windows-1252', separator: ';', size: file.length });
  expect(up.body.preview).toEqual({
    line: 2,
    columns: [
      { column: 'org_label', field: 'label', value: 'France', format: 'text, at most 255 characters' },
      { column: 'org_extid', field: 'extId', value: 'FR', format: 'text, at most 100 characters' },
      { column: 'parent_extid', field: 'parentExtId', value: '', format: 'text, at most 100 characters' },
      { column: 'org_disabled', field: 'disabled', value: '0', format: '1, 0 or empty' },
    ],
  });
  expect(up.body.options.map((o: { name: string }) => o.name)).toEqual(['updateNames', 'updateHierarchy', 'onlyFilledCells']);

  const bad = await stack.http('POST', '/v1/imports', { body: { uploadId: up.body.uploadId, options: { colour: true } } });
  expect([bad.status, bad.body.field]).toEqual([400, 'options.colour']);

  const dry = await stack.http('POST', '/v1/imports', { body: { uploadId: up.body.uploadId, dryRun: true } });
  expect(dry.status).toBe(202);
  const dryDone = await finished(dry.body.id);
  const real = await stack.http('POST', '/v1/imports', { body: { uploadId: up.body.uploadId, options: { updateHierarchy: true } } });
  const done = await finished(real.body.id);
  expect(done).toMatchObject({ status: 'completed', dryRun: false, fileSize: file.length, bytesRead: file.length });
  expect(done.counts).toEqual({ read: 4, added: 2, updated: 0, unchanged: 0, rejected: 2, warnings: 0 });
  expect(dryDone.counts).toEqual(done.counts);
  expect(done.options).toEqual({ updateNames: 'true', updateHierarchy: 'true', onlyFilledCells: 'true' });

  const log = await download(`/v1/imports/${real.body.id}/log.csv`);
  expect(log.bytes.toString('utf8').split('\r\n')).toEqual([
    '\uFEFFline;column;value;severity;message',
    '3;org_disabled;oui;error;org_disabled must be 1, 0 or empty',
    '5;parent_extid;NOPE;error;"parent_extid: no organisation with external id ""NOPE"""',
    '',
  ]);
  const rejects = await download(`/v1/imports/${real.body.id}/rejects.csv`);
  expect(rejects.bytes).toEqual(
    iconv.encode(
      'org_label;org_extid;parent_extid;org_disabled;reason\r\nSète;FR-SETE;FR;oui;org_disabled must be 1, 0 or empty\r\n' +
        'Nowhere;XX;NOPE;;"parent_extid: no organisation with external id ""NOPE"""\r\n',
      'win1252',
    ),
  );
  const orgs = await stack.http('GET', '/v1/organisations?query=FR-NIMES');
  expect(orgs.body.items.map((o: { label: string }) => o.label)).toEqual(['Nîmes']);
});

test('a users file: its options, a text option among them (no values), and the run', async () => {
  const up = await upload(
    'users',
    'user_lname;user_fname;user_login;user_password;org_extid\nGate;Way;gateway-user;Secret-pass-1234;ROOT\n',
  );
  expect(up.status).toBe(201);
  expect(up.body.options.find((o: { name: string }) => o.name === 'welcomeTemplateId')).toMatchObject({ values: [], default: '' });
  const { body: job } = await stack.http('POST', '/v1/imports', { body: { uploadId: up.body.uploadId } });
  expect((await finished(job.id)).counts).toMatchObject({ read: 1, added: 1, rejected: 0 });
});

test('a file of several parts (the gateway sends 1 MiB at a time while it reads the next) arrives whole', async () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => `Organisation ${i};ORG-${i}`);
  const file = Buffer.from(`org_label;org_extid\n${rows.join('\n')}\n`);
  expect(file.length).toBeGreaterThan(2 * 1024 * 1024);
  const up = await upload('organisations', file);
  expect(up.status).toBe(201);
  // The import service takes the parts in order only, and counts what it stored.
  expect(up.body.size).toBe(file.length);
  expect(up.body.preview.columns.map((c: { value: string }) => c.value)).toEqual(['Organisation 0', 'ORG-0']);
});

test('a file over the size limit is refused (413); a file error shows in the upload answer', async () => {
  const big = await upload('organisations', `org_label;org_extid\n${'A;B\n'.repeat(800_000)}`);
  expect(big.status).toBe(413);
  const unknown = await upload('organisations', 'org_label;org_extid;colour\nA;B;C\n');
  expect(unknown.status).toBe(201);
  expect(unknown.body.fileError).toEqual({ line: 1, message: 'unknown column "colour" (column 3) for Organisations imports' });
});

test("a scoped administrator's import touches only its sub-tree; another user's job is not found", async () => {
  const eu = await stack.http('POST', '/v1/organisations', { body: { extId: 'EU', label: 'Europe' } });
  await stack.http('POST', '/v1/organisations', { body: { extId: 'US', label: 'United States' } });
  const role = await stack.http('POST', '/v1/roles', {
    body: { name: 'EU importer', permissions: ['imports:run', 'organisations:read', 'organisations:write'] },
  });
  const user = await stack.http('POST', '/v1/users', {
    body: { login: 'eu-admin', lastName: 'Eu', firstName: 'Admin', organisationId: eu.body.id, password: 'a long enough password 1!' },
  });
  expect(user.status).toBe(201);
  const grant = await stack.http('POST', `/v1/users/${user.body.id}/roles`, {
    body: { roleIds: [role.body.id], organisationId: eu.body.id },
  });
  expect([grant.status, grant.body, role.body]).toEqual([200, { granted: 1 }, expect.anything()]);
  const auth = basic('eu-admin', 'a long enough password 1!');
  const up = await upload('organisations', 'org_label;org_extid;parent_extid\nBerlin;DE-BER;EU\nUSA;US;\n', auth);
  const started = await stack.http('POST', '/v1/imports', { auth, body: { uploadId: up.body.uploadId } });
  const done = await finished(started.body.id, auth);
  expect(done.counts).toMatchObject({ added: 1, rejected: 1 });
  const rejects = await download(`/v1/imports/${started.body.id}/rejects.csv`, auth);
  expect(rejects.bytes.toString()).toContain('USA;US;;"org_extid: organisation ""US"" is outside your scope"');
  expect((await stack.http('GET', `/v1/imports/${started.body.id}`)).status).toBe(404);
});

test('npm run import: the command line uploads, runs, and writes the result, log and rejects next to the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
  const file = join(dir, 'orgs.csv');
  writeFileSync(file, 'org_label;org_extid;parent_extid\nCli;CLI-1;\nBad;CLI-2;NOPE\n');
  const run = promisify(execFile);
  const result = await run(
    process.execPath,
    ['--import', 'tsx', 'services/import/cli/import.ts', 'organisations', file, '--dry-run', '--option', 'updateHierarchy=true'],
    {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, ASSISTANTS_API: stack.url, ASSISTANTS_LOGIN: ADMIN.login, ASSISTANTS_PASSWORD: ADMIN.password },
    },
  ).catch((error: { code: number; stdout: string }) => error);
  expect((result as { code?: number }).code).toBe(1);
  expect(result.stdout).toContain('dry run completed: 2 read, 1 added, 0 updated, 0 unchanged, 1 rejected, 0 warnings');
  expect(JSON.parse(readFileSync(`${file}.result.json`, 'utf8'))).toMatchObject({ dryRun: true, options: { updateHierarchy: 'true' } });
  expect(readFileSync(`${file}.log.csv`, 'utf8')).toContain('3;parent_extid;NOPE;error;');
  expect(readFileSync(`${file}.rejects.csv`, 'utf8')).toContain('Bad;CLI-2;NOPE;');
  expect((await stack.http('GET', '/v1/organisations?query=CLI-1')).body.items).toEqual([]);
}, 60_000);
