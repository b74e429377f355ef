import { actingAs, startIdentityFixture, startImportProcess, type IdentityFixture, type ImportProcess } from '@assistants/testing';
import { readFile, waitForJob } from './helpers';

/** An import process killed (SIGKILL) in the middle of a job: the job resumes after its last
 * recorded chunk when the process is back, and no row is imported twice. Only 100 keys are
 * kept in memory: the others are in the job's keys table, where the chunks read again after
 * the kill find their own rows (not repeats), and the last row, repeating one, is found. */

let fixture: IdentityFixture;
let proc: ImportProcess | undefined;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_kill');
});
afterAll(async () => {
  await proc?.stop();
  await fixture?.stop();
});

test('SIGKILL in the middle of a job: resumed, every row once, the counts and log of the whole file', async () => {
  proc = await startImportProcess({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_CHUNK_ROWS: '25', IMPORT_KEYS_IN_MEMORY: '100' },
  });
  const client = actingAs(proc.client, fixture.adminId);
  const rows = Array.from({ length: 1500 }, (_, i) => `Org ${i};ORG-${i};${i % 100 === 99 ? 'NOPE' : ''}`);
  const file = Buffer.from(['org_label;org_extid;parent_extid', ...rows, 'Org again;org-500;'].join('\n'));
  const { uploadId } = await client.imports.createUpload({ kind: 'organisations', fileName: 'big.csv' });
  for (let i = 0, part = 0; i < file.length; i += 4096, part++) {
    await client.imports.appendUpload({ uploadId, part, data: file.subarray(i, i + 4096) });
  }
  await client.imports.completeUpload({ uploadId, encoding: '' });
  const { job } = await client.imports.startImport({ uploadId, dryRun: false, options: {} });

  const chunks = async () =>
    Number((await fixture.identity.db.query<{ n: string }>('SELECT count(*) AS n FROM import.job_chunks')).rows[0].n);
  while ((await chunks()) < 5) await new Promise((r) => setTimeout(r, 20));
  await proc.kill('SIGKILL');
  const atKill = await chunks();
  expect(atKill).toBeLessThan(60);
  await proc.restart();

  const done = await waitForJob(client, job!.id, 60_000);
  expect(done.status).toBe('completed');
  expect(done.counts).toEqual({ read: 1501, added: 1485, updated: 0, unchanged: 0, rejected: 16, warnings: 0 });
  const { rows: orgs } = await fixture.identity.db.query<{ n: string; distinct: string }>(
    "SELECT count(*) AS n, count(DISTINCT ext_id) AS distinct FROM organisations WHERE ext_id LIKE 'ORG-%'",
  );
  expect(orgs[0]).toEqual({ n: '1485', distinct: '1485' });
  const published = await fixture.identity.db.query<{ n: string }>('SELECT count(*) AS n FROM kit_batches WHERE idempotency_key LIKE $1', [
    `import:${job!.id}:%`,
  ]);
  expect(Number(published.rows[0].n)).toBe(60); // (the 61st chunk, its one row repeating a key, sends nothing)
  const log = (await readFile(client, job!.id, 'log')).toString().split('\r\n').filter(Boolean);
  expect(log).toHaveLength(17);
  expect(log[1]).toBe('101;parent_extid;NOPE;error;"parent_extid: no organisation with external id ""NOPE"""');
  expect(log[16]).toBe('1502;org_extid;org-500;error;"org_extid ""org-500"" is already on line 502 of the file"');
  const { rows: keys } = await fixture.identity.db.query('SELECT 1 FROM import.job_keys');
  expect(keys).toEqual([]);
}, 120_000);
