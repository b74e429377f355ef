import { basic, readStream, startStack, type TestStack } from '@assistants/testing';
import pg from 'pg';

// Assistant runs through the API, with the real U2 (add audiences) applied by identity.
// ROOT > EU > FR, ROOT > US; 30 users in FR, 20 in US. fr-admin manages FR users.
// One batch at a time in this gateway, of 12 users, so that a run has several.

let stack: TestStack;
let gatewayDb: pg.Client;
const org: Record<string, string> = {};
const fr: { id: string; login: string }[] = [];
const us: { id: string; login: string }[] = [];
let frAdmin: string;
let frAdminId: string;
let auditor: string;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_RUN_BATCH_SIZE: '12', GATEWAY_RUN_CONCURRENCY: '1', GATEWAY_RUN_POLL_MS: '50' });
  gatewayDb = new pg.Client({ connectionString: stack.gatewayDb.url });
  await gatewayDb.connect();
  org.EU = (await post('/v1/organisations', { extId: 'EU', label: 'Europe' })).id;
  org.FR = (await post('/v1/organisations', { extId: 'FR', label: 'France', parentId: org.EU })).id;
  org.US = (await post('/v1/organisations', { extId: 'US', label: 'United States' })).id;
  for (let i = 0; i < 30; i++) {
    const login = `fr-${String(i).padStart(2, '0')}`;
    fr.push({ id: (await post('/v1/users', { login, lastName: `Durand ${i}`, firstName: 'F', organisationId: org.FR })).id, login });
  }
  for (let i = 0; i < 20; i++) {
    const login = `us-${String(i).padStart(2, '0')}`;
    us.push({ id: (await post('/v1/users', { login, lastName: `Smith ${i}`, firstName: 'S', organisationId: org.US })).id, login });
  }
  const manager = await post('/v1/roles', { name: 'User manager', permissions: ['users:read', 'users:write', 'organisations:read'] });
  frAdminId = (
    await post('/v1/users', { login: 'fr-admin', lastName: 'Admin', firstName: 'F', organisationId: org.FR, password: 'fr admin password' })
  ).id;
  await post(`/v1/users/${frAdminId}/roles`, { roleIds: [manager.id], organisationId: org.FR });
  frAdmin = basic('fr-admin', 'fr admin password');
  // runs:read-all is the gateway's own permission, declared to identity when it started.
  const reader = await post('/v1/roles', { name: 'Run auditor', permissions: ['runs:read-all'] });
  const auditorId = (
    await post('/v1/users', { login: 'auditor', lastName: 'Audit', firstName: 'A', organisationId: org.US, password: 'auditor password' })
  ).id;
  const root = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
  await post(`/v1/users/${auditorId}/roles`, { roleIds: [reader.id], organisationId: root });
  auditor = basic('auditor', 'auditor password');
}, 120_000);

afterAll(async () => {
  await gatewayDb?.end();
  await stack?.stop();
});

async function post(path: string, body: object, auth?: string) {
  const result = await stack.http('POST', path, { body, auth });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

const newAudience = async (name: string): Promise<string> => (await post('/v1/audiences', { name })).id;

const startRun = (body: object, auth?: string) => stack.http('POST', '/v1/runs', { body: { assistant: 'users', ...body }, auth });

async function waitForRun(
  id: string,
  until: (run: any) => boolean = (run) => ['completed', 'cancelled'].includes(run.status),
  auth?: string,
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = (await stack.http('GET', `/v1/runs/${id}`, { auth })).body;
    if (until(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status}: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Who has the audience, by login, in identity's own table. */
async function holders(audienceId: string): Promise<string[]> {
  const { rows } = await stack.identity.db.query<{ login: string }>(
    'SELECT u.login FROM user_audiences ua JOIN users u ON u.id = ua.user_id WHERE ua.audience_id = $1 ORDER BY u.login',
    [audienceId],
  );
  return rows.map((r) => r.login).sort();
}

/** The users whose audiences changed, one entry per event, in events published since the last call. */
let seen = 0;
async function audienceEvents(): Promise<string[]> {
  await stack.identity.flushEvents();
  const events = await readStream(stack.identity.bus, 'IDENTITY');
  const fresh = events.slice(seen);
  seen = events.length;
  return fresh
    .filter((e) => e.subject === 'identity.user.updated.v1' && (e.data as any).changedFields.includes('audiences'))
    .map((e) => (e.data as any).user.login)
    .sort();
}

/** Batches identity recorded under the run's keys. */
async function identityBatches(runId: string): Promise<number> {
  const { rows } = await stack.identity.db.query<{ n: string }>('SELECT count(*) AS n FROM kit_batches WHERE idempotency_key LIKE $1', [
    `run:${runId}:%`,
  ]);
  return Number(rows[0].n);
}

const logins = (users: { login: string }[]) => users.map((u) => u.login).sort();

describe('a run', () => {
  it('applies U2 once to every user of a filter minus the exclusions, batch by batch, and reports each', async () => {
    const audience = await newAudience('Sales');
    await audienceEvents();
    const excluded = [fr[3], fr[17]];
    const created = await startRun({
      action: 'U2',
      selection: { type: 'filter', filter: { login: 'fr-' }, excludeIds: excluded.map((u) => u.id.toUpperCase()) },
      params: { audienceIds: [audience] },
    });
    expect(created.status).toBe(202);
    expect(created.headers.get('location')).toBe(`/v1/runs/${created.body.id}`);
    // fr-admin matches "fr-" too.
    const selected = [...fr.filter((u) => !excluded.includes(u)), { login: 'fr-admin' }];
    expect(created.body).toMatchObject({
      assistant: 'users',
      action: 'U2',
      title: 'Add audiences',
      params: { audienceIds: [audience] },
      dryRun: false,
      actorLogin: 'admin',
      total: selected.length,
      done: 0,
    });
    expect(['pending', 'running', 'completed']).toContain(created.body.status);

    const run = await waitForRun(created.body.id);
    expect(run).toMatchObject({
      status: 'completed',
      total: 29,
      done: 29,
      succeeded: 29,
      unchanged: 0,
      failed: 0,
      notDone: 0,
      secondsLeft: 0,
    });
    expect(run.ratePerSecond).toBeGreaterThan(0);
    expect(Date.parse(run.startedAt)).toBeGreaterThanOrEqual(Date.parse(run.createdAt));
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));

    expect(await holders(audience)).toEqual(logins(selected));
    expect(await audienceEvents()).toEqual(logins(selected));
    // 29 users in batches of 12: three calls, each recorded once by identity.
    expect(await identityBatches(run.id)).toBe(3);
    const { rows: batches } = await gatewayDb.query(
      'SELECT batch_no, attempts, status FROM gateway.run_batches WHERE run_id = $1 ORDER BY batch_no',
      [run.id],
    );
    expect(batches).toEqual([1, 2, 3].map((batch_no) => ({ batch_no, attempts: 1, status: 'done' })));

    // The same run again changes nothing: every user already has the audience.
    const again = await waitForRun((await startRun({ action: 'U2', selection: run.selection, params: run.params })).body.id);
    expect(again).toMatchObject({ status: 'completed', done: 29, succeeded: 0, unchanged: 29 });
    expect(await audienceEvents()).toEqual([]);
  });

  it('pages its results as JSON (by outcome, with a cursor) and gives them all as one CSV file', async () => {
    const audience = await newAudience('Results');
    // us-00 has it already: unchanged.
    await post('/v1/users/' + us[0].id + '/audiences', { audienceIds: [audience] });
    const run = await waitForRun(
      (await startRun({ action: 'U2', selection: { type: 'filter', filter: { login: 'us-' } }, params: { audienceIds: [audience] } })).body
        .id,
    );
    expect(run).toMatchObject({ total: 20, succeeded: 19, unchanged: 1 });

    const pages: any[] = [];
    let after = '';
    do {
      const page = await stack.http('GET', `/v1/runs/${run.id}/results?limit=7${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(20);
      pages.push(...page.body.items);
      after = page.body.nextCursor;
    } while (after);
    // In the order of the selection: by name (Smith 0, Smith 1, Smith 10…).
    expect(pages.map((r) => r.itemLabel).sort()).toEqual(logins(us));
    expect(pages[0]).toEqual({
      itemId: us[0].id,
      itemLabel: 'us-00',
      targetId: '',
      outcome: 'unchanged',
      code: 'ALREADY_SET',
      message: 'this user already has these audiences',
    });
    expect(pages[1]).toMatchObject({ itemId: us[1].id, outcome: 'succeeded', code: '' });

    const unchanged = await stack.http('GET', `/v1/runs/${run.id}/results?outcome=unchanged`);
    expect(unchanged.body).toMatchObject({ total: 1, nextCursor: '', items: [{ itemLabel: 'us-00' }] });
    expect((await stack.http('GET', `/v1/runs/${run.id}/results?after=not-a-cursor`)).body).toMatchObject({
      error: 'invalid_argument',
      field: 'query.after',
    });

    const csv = await fetch(`${stack.url}/v1/runs/${run.id}/results.csv`, { headers: { authorization: stack.adminAuth } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="run-${run.id}-results.csv"`);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await csv.arrayBuffer());
    expect(text.startsWith('\uFEFFitem;label;target;outcome;code;message\r\n')).toBe(true);
    const lines = text.slice(1).split('\r\n');
    expect(lines).toHaveLength(22);
    expect(lines[1]).toBe(`${us[0].id};us-00;;unchanged;ALREADY_SET;this user already has these audiences`);
    expect(lines[2]).toBe(`${us[1].id};us-01;;succeeded;;`);
    expect(lines[21]).toBe('');
    const failedOnly = await stack.http('GET', `/v1/runs/${run.id}/results.csv?outcome=failed`);
    // (text() drops the byte order mark.)
    expect(failedOnly.body).toBe('item;label;target;outcome;code;message\r\n');
  });

  it('as a dry run, says what each user would become and changes nothing', async () => {
    const audience = await newAudience('Dry');
    await post('/v1/users/' + fr[0].id + '/audiences', { audienceIds: [audience] });
    await audienceEvents();
    const run = await waitForRun(
      (
        await startRun({
          action: 'U2',
          dryRun: true,
          selection: { type: 'ids', ids: fr.slice(0, 5).map((u) => u.id) },
          params: { audienceIds: [audience] },
        })
      ).body.id,
    );
    expect(run).toMatchObject({ status: 'completed', dryRun: true, total: 5, succeeded: 4, unchanged: 1, failed: 0 });
    const results = (await stack.http('GET', `/v1/runs/${run.id}/results`)).body.items;
    expect(results.map((r: any) => [r.itemLabel, r.outcome])).toEqual([
      ['fr-00', 'unchanged'],
      ['fr-01', 'succeeded'],
      ['fr-02', 'succeeded'],
      ['fr-03', 'succeeded'],
      ['fr-04', 'succeeded'],
    ]);
    expect(await holders(audience)).toEqual(['fr-00']);
    expect(await audienceEvents()).toEqual([]);
    expect(await identityBatches(run.id)).toBe(0);
  });
});

describe('validation, before anything starts', () => {
  const runsNow = async () => Number((await gatewayDb.query('SELECT count(*) AS n FROM gateway.runs')).rows[0].n);

  it('names the field at fault: the action, a parameter (by its schema or by identity), the selection', async () => {
    const before = await runsNow();
    const audience = await newAudience('Valid');
    const selection = { type: 'filter', filter: { login: 'fr-' } };
    const cases: [object, number, string, RegExp][] = [
      [{ action: 'U99', selection, params: {} }, 400, 'action', /unknown action "U99"/],
      [
        { assistant: 'courses', action: 'U2', selection, params: { audienceIds: [audience] } },
        400,
        'action',
        /U2 is an action of the users assistant/,
      ],
      [{ action: 'U2', selection, params: {} }, 400, 'params.audienceIds', /params.audienceIds is required/],
      [{ action: 'U2', selection, params: { audienceIds: [] } }, 400, 'params.audienceIds', /fewer than 1 items/],
      [{ action: 'U2', selection, params: { audienceIds: [audience], everyone: true } }, 400, 'params.everyone', /not a known field/],
      // Identity's own check, through a dry run of no users.
      [
        { action: 'U2', selection, params: { audienceIds: [audience, '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] } },
        400,
        'params.audienceIds[1]',
        /no audience with id 3f0c8a52/,
      ],
      [
        { action: 'U2', selection: { type: 'everyone' }, params: { audienceIds: [audience] } },
        400,
        'selection.type',
        /must be one of "ids", "filter", "list"/,
      ],
      [
        { action: 'U2', selection: { type: 'filter', filter: { surname: 'x' } }, params: { audienceIds: [audience] } },
        400,
        'selection.filter.surname',
        /not a known field/,
      ],
      [
        { action: 'U2', selection: { type: 'filter', filter: { login: 'nobody-has-this' } }, params: { audienceIds: [audience] } },
        400,
        'selection',
        /holds nothing/,
      ],
      [
        { action: 'U2', selection: { type: 'list', listId: '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b' }, params: { audienceIds: [audience] } },
        404,
        'selection.listId',
        /./,
      ],
    ];
    for (const [body, status, field, message] of cases) {
      const refused = await startRun(body);
      expect([JSON.stringify(body), refused.status, refused.body.field]).toEqual([JSON.stringify(body), status, field]);
      expect(refused.body.message).toMatch(message);
    }
    expect(await runsNow()).toBe(before);
  });
});

describe('cancelling', () => {
  it('stops after the batch being sent: the others are never sent, their users reported not done', async () => {
    const audience = await newAudience('Cancelled');
    await audienceEvents();
    // Identity waits on its batch table: the first batch stays in flight until released.
    const blocker = new pg.Client({ connectionString: stack.fixture.pg.url });
    await blocker.connect();
    let runId: string;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE identity.kit_batches IN SHARE ROW EXCLUSIVE MODE');
      const created = (
        await startRun({ action: 'U2', selection: { type: 'filter', filter: { login: 'fr-' } }, params: { audienceIds: [audience] } })
      ).body;
      runId = created.id;
      const running = await waitForRun(created.id, (run) => run.status === 'running');
      // Progress while the first batch is in flight: nothing done, no estimate yet.
      expect(running).toMatchObject({ total: 31, done: 0, notDone: 0, ratePerSecond: 0, secondsLeft: null, finishedAt: '' });

      // Nobody else cancels it: to them it does not exist.
      expect((await stack.http('POST', `/v1/runs/${created.id}/cancel`, { auth: frAdmin })).status).toBe(404);
      const cancelling = await stack.http('POST', `/v1/runs/${created.id}/cancel`);
      expect(cancelling.status).toBe(200);
      expect(cancelling.body).toMatchObject({ status: 'cancelling', done: 0, notDone: 31 - 12 });
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    const run = await waitForRun(runId);
    expect(run).toMatchObject({ status: 'cancelled', total: 31, done: 12, succeeded: 12, notDone: 19, secondsLeft: 0 });
    expect(await holders(audience)).toHaveLength(12);
    expect(await audienceEvents()).toHaveLength(12);
    expect(await identityBatches(run.id)).toBe(1);
    const notDone = (await stack.http('GET', `/v1/runs/${run.id}/results?outcome=not_done&limit=100`)).body;
    expect(notDone.total).toBe(19);
    expect(notDone.items[0]).toMatchObject({ outcome: 'not_done', code: 'CANCELLED', message: 'not done: the run was cancelled' });
    // The users with a result are exactly those that got the audience or were not done.
    const all = (await stack.http('GET', `/v1/runs/${run.id}/results?limit=100`)).body.items;
    expect(
      all
        .filter((r: any) => r.outcome === 'succeeded')
        .map((r: any) => r.itemLabel)
        .sort(),
    ).toEqual(await holders(audience));
    expect(all).toHaveLength(31);

    // Cancelling again says it is cancelled; a completed run cannot be.
    expect((await stack.http('POST', `/v1/runs/${run.id}/cancel`)).body.status).toBe('cancelled');
    const completed = (await stack.http('GET', '/v1/runs?status=completed&limit=1')).body.items[0];
    const late = await stack.http('POST', `/v1/runs/${completed.id}/cancel`);
    expect(late.status).toBe(409);
    expect(late.body.message).toBe('the run has ended already (completed)');
  });
});

describe('scoped administrators', () => {
  it('run only over the users of their scope, and never see another user’s run', async () => {
    const audience = await newAudience('France only');
    await audienceEvents();
    // Everyone a filter matches: for fr-admin, the users of FR.
    const created = await startRun(
      { action: 'U2', selection: { type: 'filter', filter: {} }, params: { audienceIds: [audience] } },
      frAdmin,
    );
    expect(created.status).toBe(202);
    const run = await waitForRun(created.body.id, undefined, frAdmin);
    const france = [...logins(fr), 'fr-admin'].sort();
    expect(run).toMatchObject({ status: 'completed', actorLogin: 'fr-admin', total: france.length, succeeded: france.length, failed: 0 });
    expect(await holders(audience)).toEqual(france);
    expect(await audienceEvents()).toEqual(france);

    // Ids outside its scope are not selected at all.
    const outside = await startRun(
      { action: 'U2', selection: { type: 'ids', ids: us.map((u) => u.id) }, params: { audienceIds: [audience] } },
      frAdmin,
    );
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ field: 'selection', message: 'the selection holds nothing you may act on' });

    // The administrator's runs do not exist for fr-admin: not listed, not readable.
    const mine = (await stack.http('GET', '/v1/runs?limit=200', { auth: frAdmin })).body;
    expect(mine.items.map((r: any) => r.id)).toEqual([run.id]);
    expect(mine.total).toBe(1);
    const others = (await stack.http('GET', '/v1/runs?limit=200')).body.items.filter((r: any) => r.actorLogin === 'admin');
    expect(others.length).toBeGreaterThan(3);
    for (const path of [`/v1/runs/${others[0].id}`, `/v1/runs/${others[0].id}/results`, `/v1/runs/${others[0].id}/results.csv`]) {
      const hidden = await stack.http('GET', path, { auth: frAdmin });
      expect([path, hidden.status, hidden.body.field]).toEqual([path, 404, 'params.id']);
    }
    const theirs = await stack.http('GET', `/v1/runs?actorId=${frAdminId}`);
    expect(theirs.body.items.map((r: any) => r.id)).toEqual([run.id]);
    expect((await stack.http('GET', `/v1/runs?actorId=${stack.fixture.adminId}`, { auth: frAdmin })).body).toMatchObject({
      items: [],
      total: 0,
    });

    // runs:read-all on the root sees every run, and may not cancel them.
    expect((await stack.http('GET', `/v1/runs/${run.id}`, { auth: auditor })).body.actorLogin).toBe('fr-admin');
    expect((await stack.http('GET', '/v1/runs?limit=200', { auth: auditor })).body.total).toBe(others.length + 1);
    expect((await stack.http('POST', `/v1/runs/${run.id}/cancel`, { auth: auditor })).status).toBe(404);
  });
});

describe('the other assistants and actions with several targets', () => {
  it('runs a course assistant action (C4) over a course selection, the courses reported by their unique id', async () => {
    const audience = await newAudience('Course audience');
    const courses: { id: string; code: string }[] = [];
    for (const code of ['RUN-A', 'RUN-B', 'RUN-C']) courses.push(await post('/v1/courses', { code, name: `Course ${code}` }));
    const run = await waitForRun(
      (
        await startRun({
          assistant: 'courses',
          action: 'C4',
          selection: { type: 'filter', filter: { code: 'RUN-' }, excludeIds: [courses[1].id] },
          params: { audienceIds: [audience] },
        })
      ).body.id,
    );
    expect(run).toMatchObject({ status: 'completed', assistant: 'courses', title: 'Add audiences', total: 2, succeeded: 2 });
    const results = (await stack.http('GET', `/v1/runs/${run.id}/results`)).body.items;
    expect(results.map((r: any) => [r.itemLabel, r.outcome])).toEqual([
      ['RUN-A', 'succeeded'],
      ['RUN-C', 'succeeded'],
    ]);
    for (const [course, expected] of [
      [courses[0], [audience]],
      [courses[1], []],
      [courses[2], [audience]],
    ] as const) {
      expect((await stack.http('GET', `/v1/courses/${course.id}`)).body.audienceIds).toEqual(expected);
    }
    // A user action is not one of the course assistant's.
    const wrong = await startRun({ assistant: 'courses', action: 'U2', selection: { type: 'ids', ids: [courses[0].id] }, params: {} });
    expect(wrong.body).toMatchObject({ field: 'action', message: 'U2 is an action of the users assistant, not of the courses assistant' });
  });

  it('reports U7 per user and course: the audience rule fails some, never the run', async () => {
    const sales = await newAudience('Course sales');
    await post(`/v1/users/${us[0].id}/audiences`, { audienceIds: [sales] });
    const open = (await post('/v1/courses', { code: 'U7-OPEN', name: 'Open' })).id;
    const restricted = (await post('/v1/courses', { code: 'U7-SALES', name: 'Sales only', audienceIds: [sales] })).id;
    const selection = { type: 'ids', ids: us.slice(0, 3).map((u) => u.id) };
    const refused = await startRun({
      action: 'U7',
      selection,
      params: { courseIds: [open, restricted], startDate: '2027-03-01', endDate: '2027-01-31' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ field: 'params.endDate', message: 'endDate is before startDate' });

    const run = await waitForRun((await startRun({ action: 'U7', selection, params: { courseIds: [open, restricted] } })).body.id);
    expect(run).toMatchObject({ status: 'completed', total: 3, done: 3, succeeded: 4, failed: 2, unchanged: 0 });
    const results = (await stack.http('GET', `/v1/runs/${run.id}/results`)).body.items;
    expect(results.map((r: any) => [r.itemLabel, r.targetId === open ? 'open' : 'sales', r.outcome, r.code])).toEqual([
      ['us-00', 'open', 'succeeded', ''],
      ['us-00', 'sales', 'succeeded', ''],
      ['us-01', 'open', 'succeeded', ''],
      ['us-01', 'sales', 'failed', 'AUDIENCE_MISMATCH'],
      ['us-02', 'open', 'succeeded', ''],
      ['us-02', 'sales', 'failed', 'AUDIENCE_MISMATCH'],
    ]);
    const csv = (await stack.http('GET', `/v1/runs/${run.id}/results.csv?outcome=failed`)).body.split('\r\n');
    expect(csv[1]).toBe(
      `${us[1].id};us-01;${restricted};failed;AUDIENCE_MISMATCH;the user shares none of the audiences of course U7-SALES`,
    );
  });
});

describe('the list of runs and of actions', () => {
  it('lists runs newest first, page after page', async () => {
    const all = (await stack.http('GET', '/v1/runs?limit=200')).body;
    const walked: string[] = [];
    let after = '';
    do {
      const page = (await stack.http('GET', `/v1/runs?limit=2${after ? `&after=${after}` : ''}`)).body;
      expect(page.total).toBe(all.total);
      walked.push(...page.items.map((r: any) => r.id));
      after = page.nextCursor;
    } while (after);
    expect(walked).toEqual(all.items.map((r: any) => r.id));
    const created = all.items.map((r: any) => Date.parse(r.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect((await stack.http('GET', '/v1/runs?after=bm9wZQ')).body.field).toBe('query.after');
  });

  it('lists every action with the JSON schema of its parameters', async () => {
    const actions = (await stack.http('GET', '/v1/actions')).body.items;
    expect(actions.map((a: any) => a.id)).toEqual(expect.arrayContaining(['U1', 'U2', 'U3', 'U4', 'U5', 'U18']));
    expect(actions.find((a: any) => a.id === 'U2')).toEqual({
      id: 'U2',
      assistant: 'users',
      title: 'Add audiences',
      params: {
        type: 'object',
        additionalProperties: false,
        required: ['audienceIds'],
        properties: { audienceIds: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', format: 'uuid' } } },
      },
    });
    const users = (await stack.http('GET', '/v1/actions?assistant=users')).body.items;
    expect(users.every((a: any) => a.assistant === 'users')).toBe(true);
  });
});
