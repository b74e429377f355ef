import { actingAs, startIdentityFixture, startImport, type IdentityFixture, type ImportClient, type TestImport } from '@assistants/testing';
import { pruneImports } from '../src/prune';
import { runImport } from './helpers';

/** Retention: finished jobs (with their chunks) and unused uploads (with their parts) go
 * once past IMPORT_KEEP_DAYS and IMPORT_UPLOAD_KEEP_HOURS; the rest stays. */

let fixture: IdentityFixture;
let service: TestImport;
let admin: ImportClient;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_retention');
  service = await startImport({ nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address });
  admin = actingAs(service.client, fixture.adminId);
});
afterAll(async () => {
  await service?.stop();
  await fixture?.stop();
});

const count = async (table: string, where = 'true', params: unknown[] = []) =>
  Number((await service.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params)).rows[0].n);
const FILE = 'org_label;org_extid\nRetained;RET-1\n';

/** A finished job of a real import, back-dated with its upload. */
async function finishedJob(daysAgo: number): Promise<{ jobId: string; uploadId: string }> {
  const { job, upload } = await runImport(admin, 'organisations', FILE);
  await service.db.query(
    `UPDATE jobs SET created_at = now() - make_interval(days => $2), finished_at = now() - make_interval(days => $2) WHERE id = $1`,
    [job.id, daysAgo],
  );
  await service.db.query('UPDATE uploads SET created_at = now() - make_interval(days => $2) WHERE id = $1', [upload.uploadId, daysAgo]);
  return { jobId: job.id, uploadId: upload.uploadId };
}
/** An upload never started, back-dated. */
async function unusedUpload(hoursAgo: number): Promise<string> {
  const { uploadId } = await admin.imports.createUpload({ kind: 'organisations', fileName: 'never.csv' });
  await admin.imports.appendUpload({ uploadId, part: 0, data: Buffer.from(FILE) });
  await service.db.query('UPDATE uploads SET created_at = now() - make_interval(hours => $2) WHERE id = $1', [uploadId, hoursAgo]);
  return uploadId;
}

test('old finished jobs go with their chunks and upload; recent ones, unfinished ones and recent uploads stay; two prunes at once', async () => {
  const old = await finishedJob(40);
  const recent = await finishedJob(3);
  // A job started long ago and still running (leased, so that no worker takes it): kept,
  // and so is its upload.
  const stuck = await finishedJob(40);
  await service.db.query("UPDATE jobs SET status = 'running', finished_at = NULL, lease_until = now() + interval '1 hour' WHERE id = $1", [
    stuck.jobId,
  ]);
  // A second job on the old job's upload, recent: the upload stays for it.
  const shared = await finishedJob(40);
  const { job: again } = await admin.imports.startImport({ uploadId: shared.uploadId, dryRun: true, options: {} });
  const abandoned = await unusedUpload(30);
  const fresh = await unusedUpload(2);
  await service.db.query("UPDATE jobs SET status = 'completed', finished_at = now() WHERE id = $1", [again!.id]);

  const results = await Promise.all([1, 2].map(() => pruneImports(service.db, { jobDays: 30, uploadHours: 24 })));
  expect(results.reduce((n, r) => n + r.jobs, 0)).toBe(2); // old, and the first job on the shared upload
  expect(results.reduce((n, r) => n + r.uploads, 0)).toBe(2); // old's, abandoned

  const jobs = (await service.db.query<{ id: string }>('SELECT id FROM jobs')).rows.map((r) => r.id);
  expect(jobs.sort()).toEqual([recent.jobId, stuck.jobId, again!.id].sort());
  expect(await count('job_chunks', 'job_id = $1', [old.jobId])).toBe(0);
  expect(await count('job_chunks', 'job_id = $1', [recent.jobId])).toBe(1);
  const uploads = (await service.db.query<{ id: string }>('SELECT id FROM uploads')).rows.map((r) => r.id);
  expect(uploads.sort()).toEqual([recent.uploadId, stuck.uploadId, shared.uploadId, fresh].sort());
  expect(await count('upload_parts', 'upload_id = ANY($1)', [[old.uploadId, abandoned]])).toBe(0);
  expect(await count('upload_parts', 'upload_id = $1', [fresh])).toBe(1);
  // Gone for its owner too.
  await expect(admin.imports.getImport({ id: old.jobId })).rejects.toThrow(`no import ${old.jobId}`);
  await expect(admin.imports.startImport({ uploadId: abandoned, dryRun: true, options: {} })).rejects.toThrow(`no upload ${abandoned}`);
});

test('every replica prunes when it starts (then every IMPORT_PRUNE_INTERVAL_MINUTES), with its configured retention', async () => {
  const old = await finishedJob(10);
  const kept = await finishedJob(3);
  const replica = await startImport({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    env: { IMPORT_KEEP_DAYS: '7', IMPORT_WORKER_ENABLED: 'false' },
  });
  try {
    for (let i = 0; i < 100 && (await count('jobs', 'id = $1', [old.jobId])) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await count('jobs', 'id = ANY($1)', [[old.jobId, kept.jobId]])).toBe(1);
    expect(await count('jobs', 'id = $1', [kept.jobId])).toBe(1);
  } finally {
    await replica.stop();
  }
});
