import { TemplateContext } from '@assistants/proto/gen/notification/v1/templates';
import {
  actingAs,
  freePort,
  startIdentityFixture,
  startImportProcess,
  startNotification,
  startSmtpSink,
  type IdentityFixture,
  type ImportProcess,
  type SmtpSink,
  type TestNotification,
} from '@assistants/testing';
import { readFile, waitForJob } from './helpers';

/** A users import with welcome mails, killed (SIGKILL) after identity applied a chunk and
 * before its mails were queued: the chunk, answered from identity's record when the job
 * resumes, sends its mails with the passwords the users were given (sealed until then). */

let fixture: IdentityFixture;
let proc: ImportProcess | undefined;
let notification: TestNotification | undefined;
let smtp: SmtpSink;

beforeAll(async () => {
  fixture = await startIdentityFixture('import_welcome_kill');
  smtp = await startSmtpSink();
});
afterAll(async () => {
  await proc?.stop();
  await notification?.stop();
  await smtp?.stop();
  await fixture?.stop();
});

test('SIGKILL between a chunk applied and its welcome mails: resumed, every mail sent once with the password that logs in', async () => {
  // The notification service is not there yet: the first chunk's mails cannot be queued.
  const notificationPort = await freePort();
  proc = await startImportProcess({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    notificationAddress: `127.0.0.1:${notificationPort}`,
    env: { IMPORT_CHUNK_ROWS: '3', IMPORT_UPSTREAM_TIMEOUT_MS: '60000' },
  });
  const client = actingAs(proc.client, fixture.adminId);
  const logins = Array.from({ length: 5 }, (_, i) => `welcome-${i}`);
  const file = Buffer.from(
    [
      'user_lname;user_fname;user_login;user_password;org_extid;user_email',
      ...logins.map((l) => `New;${l};${l};;ROOT;${l}@example.com`),
    ].join('\n'),
  );
  const { uploadId } = await client.imports.createUpload({ kind: 'users', fileName: 'welcome.csv' });
  await client.imports.appendUpload({ uploadId, part: 0, data: file });
  await client.imports.completeUpload({ uploadId, encoding: '' });

  // The template, through a notification service of a moment (same database).
  const templates = await startNotification({ nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address });
  const { template } = await actingAs(templates.client, fixture.adminId).templates.createTemplate({
    template: {
      name: 'Welcome',
      context: TemplateContext.TEMPLATE_CONTEXT_WELCOME,
      defaultLanguage: 'en-EN',
      variants: [{ language: 'en-EN', subject: 'Welcome', html: '', text: 'Password: {{ password }}' }],
    },
  });
  await templates.stop();

  const { job } = await client.imports.startImport({
    uploadId,
    dryRun: false,
    options: { generatePasswords: 'true', sendWelcomeMail: 'true', welcomeTemplateId: template!.id },
  });
  const applied = async () =>
    (await fixture.identity.db.query('SELECT 1 FROM kit_batches WHERE idempotency_key = $1', [`import:${job!.id}:0`])).rows.length > 0;
  while (!(await applied())) await new Promise((r) => setTimeout(r, 20));
  // Identity created the first three users; their mails wait for the notification service
  // (and the second chunk's, when it is applied beside the first: users go two chunks at a time).
  const sealed = await fixture.identity.db.query<{ sealed: Buffer }>('SELECT sealed FROM import.welcome_passwords WHERE job_id = $1', [
    job!.id,
  ]);
  expect(sealed.rows.length).toBeGreaterThanOrEqual(3);
  await proc.kill('SIGKILL');
  expect(smtp.received).toHaveLength(0);

  notification = await startNotification({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    smtpPort: smtp.port,
    port: notificationPort,
  });
  await proc.restart();
  const done = await waitForJob(client, job!.id, 60_000);
  expect(done.counts).toEqual({ read: 5, added: 5, updated: 0, unchanged: 0, rejected: 0, warnings: 0 });
  expect((await readFile(client, job!.id, 'log')).toString()).toBe('\uFEFFline;column;value;severity;message\r\n');

  const mails = await smtp.waitFor(5);
  await new Promise((r) => setTimeout(r, 300));
  expect(smtp.received).toHaveLength(5);
  for (const login of logins) {
    const mail = mails.find((m) => m.to.includes(`${login}@example.com`))!;
    const password = /Password: (\S+)/.exec(mail.text)![1];
    const session = await fixture.client.auth.createSession({ login, password });
    expect(session.token).toBeTruthy();
    // Sealed, never in clear.
    for (const row of sealed.rows) expect(Buffer.from(row.sealed).toString('latin1')).not.toContain(password);
  }
  // Wiped once the mails were queued.
  expect((await fixture.identity.db.query('SELECT 1 FROM import.welcome_passwords')).rows).toHaveLength(0);
}, 120_000);
