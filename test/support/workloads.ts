import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { createWriteStream, openAsBlob } from 'node:fs';
import pg from 'pg';

/*
 * The work the replica and chaos checks give the suite through its HTTP API (test/replicas,
 * test/chaos): users seeded by SQL, an assistant run, a users import, and the checks of
 * their outcome in the database.
 */

/** An HTTP call to a gateway as the first administrator (ReplicatedSuite.call bound to one
 * gateway, or SuiteProcesses.call). */
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<any>;

/** Users `<prefix><n>` (n = 1..count) of the root organisation, by SQL (what comes after is
 * what is measured): e-mail `<prefix><n>@example.com`, custom field 1 `mark` (a selection by
 * filter), no password. Identity's triggers keep its search projection as for any insert;
 * no event is published (the other services' copies learn them from their next change). */
export async function seedUsers(databaseUrl: string, prefix: string, count: number, mark: string): Promise<void> {
  // identity's triggers name their tables unqualified, as identity's own connections do.
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=identity' });
  await db.connect();
  try {
    for (let from = 1; from <= count; from += 50_000) {
      await db.query(
        `INSERT INTO identity.users (login, last_name, first_name, email, language, organisation_id, custom1)
         SELECT $1 || i, 'Seeded ' || i, 'Replica', $1 || i || '@example.com', 'fr-FR', o.id, $4
           FROM generate_series($2::int, $3::int) i, (SELECT id FROM identity.organisations WHERE parent_id IS NULL) o`,
        [prefix, from, Math.min(count, from + 49_999), mark],
      );
    }
    await db.query('ANALYZE identity.users');
  } finally {
    await db.end();
  }
}

/** `count` courses of one lesson each, coded `<tag>-<n>`: their ids. */
export async function createCourses(call: ApiCall, tag: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) {
    const course = await call('POST', '/v1/courses', {
      code: `${tag}-${n}`,
      name: `${tag} course ${n}`,
      lessons: [{ code: `${tag}-${n}-L1`, name: 'Lesson 1', type: 'L' }],
    });
    ids.push(course.id);
  }
  return ids;
}

/** A course_assignment mail template (the notify mail of U7): its id. */
export async function createAssignmentTemplate(call: ApiCall, name: string): Promise<string> {
  const template = await call('POST', '/v1/mail-templates', {
    name,
    context: 'course_assignment',
    variants: [
      {
        language: 'fr-FR',
        subject: 'Nouveau cours : {{ course.name }}',
        html: '<p>Bonjour {{ user.first_name }},</p><p>le cours <b>{{ course.name }}</b> vous attend.</p>',
        text: 'Bonjour {{ user.first_name }}, le cours {{ course.name }} vous attend.',
      },
    ],
  });
  return template.id;
}

/** U7: `courseIds` assigned to the users whose custom field 1 is `mark`, with the notify mail. */
export function startAssignRun(call: ApiCall, mark: string, courseIds: string[], notifyTemplateId: string): Promise<any> {
  return call('POST', '/v1/runs', {
    assistant: 'users',
    action: 'U7',
    selection: { type: 'filter', filter: { custom1: mark } },
    params: { courseIds, option: 'mandatory', startDate: '2027-01-04', endDate: '2027-06-30', notifyTemplateId },
  });
}

/** U16: an ad-hoc mail to the users whose custom field 1 is `mark`. */
export function startMailRun(call: ApiCall, mark: string): Promise<any> {
  return call('POST', '/v1/runs', {
    assistant: 'users',
    action: 'U16',
    selection: { type: 'filter', filter: { custom1: mark } },
    params: { subject: 'Information for {{ user.first_name }}', text: 'Hello {{ user.first_name }} {{ user.last_name }}.' },
  });
}

/** Polls a run (through `calls`, one after the other: several gateways) until it ends. */
export async function waitRun(calls: ApiCall[], id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const run = await calls[i % calls.length]!('GET', `/v1/runs/${id}`).catch(() => undefined);
    if (run && (run.status === 'completed' || run.status === 'cancelled')) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} not finished after ${timeoutMs / 1000} s: ${JSON.stringify(run)}`);
    await sleep(500);
  }
}

/**
 * An I2 file of `updates` users `<updatePrefix><n>` (seeded before: each row changes their
 * first name, city and custom field 2) followed by `creations` new users `<createPrefix><n>`
 * with a password from the file. Few columns: what is checked is that each row is applied once.
 */
export async function writeUsersFile(
  path: string,
  rows: { updatePrefix: string; updates: number; createPrefix: string; creations: number; city: string },
): Promise<number> {
  const out = createWriteStream(path);
  const write = async (line: string) => {
    if (!out.write(`${line}\r\n`)) await once(out, 'drain');
  };
  await write('user_lname;user_fname;user_login;user_password;org_extid;user_email;user_city;user_udtf2');
  for (let n = 1; n <= rows.updates; n++) {
    await write(`Seeded ${n};Imported;${rows.updatePrefix}${n};;ROOT;${rows.updatePrefix}${n}@example.com;${rows.city};row ${n}`);
  }
  for (let n = 1; n <= rows.creations; n++) {
    await write(
      `New ${n};Created;${rows.createPrefix}${n};Import-pass-${n}-Xy;ROOT;${rows.createPrefix}${n}@example.com;${rows.city};new ${n}`,
    );
  }
  out.end();
  await once(out, 'finish');
  return rows.updates + rows.creations;
}

/** Uploads `path` (multipart, streamed from the disk) to `uploadApi`; the upload's id. */
export async function uploadImportFile(uploadApi: string, auth: string, kind: string, path: string): Promise<string> {
  const form = new FormData();
  form.append('file', await openAsBlob(path), path.split('/').pop());
  const response = await fetch(`${uploadApi}/v1/imports/kinds/${kind}/uploads`, {
    method: 'POST',
    headers: { authorization: auth },
    body: form,
  });
  const upload = (await response.json()) as { uploadId: string; fileError?: unknown };
  if (!response.ok || upload.fileError) throw new Error(`upload: ${response.status} ${JSON.stringify(upload)}`);
  return upload.uploadId;
}

/** Polls an import job (through `calls`, one after the other) until it ends. */
export async function waitImport(calls: ApiCall[], id: string, timeoutMs: number, progress?: (job: any) => void): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const job = await calls[i % calls.length]!('GET', `/v1/imports/${id}`).catch(() => undefined);
    if (job) progress?.(job);
    if (job && job.status !== 'queued' && job.status !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`import ${id} not finished after ${timeoutMs / 1000} s: ${JSON.stringify(job)}`);
    await sleep(1000);
  }
}

/** One value of a SQL query on the suite's database (`SELECT count(*)::int AS n ...`). */
export async function sqlNumber(databaseUrl: string, text: string, values: unknown[] = []): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: number }>(text, values);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await db.end();
  }
}

/** Rows of a SQL query on the suite's database. */
export async function sqlRows<T extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(text, values)).rows;
  } finally {
    await db.end();
  }
}
