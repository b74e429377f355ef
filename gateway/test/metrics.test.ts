import { scrapeMetrics, startSmtpSink, startStack, waitFor, type Metrics, type SmtpSink, type TestStack } from '@assistants/testing';

// The gateway's GET /metrics on its health port, scraped over HTTP while the suite works: API
// requests by route pattern and status, a run's items, an import's rows, mails sent, an
// export's rows, and (every part of the stack runs in this process, one registry) the
// services' gRPC calls, outbox and consumers.

let smtp: SmtpSink;
let stack: TestStack;
let metricsUrl: string;

beforeAll(async () => {
  smtp = await startSmtpSink();
  stack = await startStack({ GATEWAY_RUN_POLL_MS: '50' }, {}, { importEnv: { IMPORT_CHUNK_ROWS: '2' }, smtpPort: smtp.port });
  metricsUrl = `${stack.healthUrl}/metrics`;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await smtp?.stop();
});

async function post(path: string, body: object) {
  const result = await stack.http('POST', path, { body });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

const delta = (before: Metrics, after: Metrics, name: string, labels: Record<string, string>) =>
  (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);

it('counts and times API requests by method, route pattern and status; unknown paths under one label', async () => {
  const before = await scrapeMetrics(metricsUrl);
  const organisation = await post('/v1/organisations', { extId: 'M1', label: 'Metrics' });
  expect((await stack.http('GET', `/v1/organisations/${organisation.id}`)).status).toBe(200);
  expect((await stack.http('GET', `/v1/organisations/${organisation.id}`, { auth: null })).status).toBe(401);
  expect((await stack.http('GET', '/v1/no-such-thing/12345')).status).toBe(404);
  const after = await scrapeMetrics(metricsUrl);
  const route = '/v1/organisations/:id';
  expect(delta(before, after, 'assistants_http_requests_total', { method: 'GET', route, status: '200' })).toBe(1);
  expect(delta(before, after, 'assistants_http_requests_total', { method: 'GET', route, status: '401' })).toBe(1);
  expect(delta(before, after, 'assistants_http_requests_total', { method: 'POST', route: '/v1/organisations', status: '201' })).toBe(1);
  expect(delta(before, after, 'assistants_http_requests_total', { route: '(unmatched)', status: '404' })).toBe(1);
  expect(delta(before, after, 'assistants_http_request_duration_seconds_count', { method: 'GET', route })).toBe(2);
  // No id in any label.
  expect(after.samples.some((s) => Object.values(s.labels).some((v) => v.includes(organisation.id)))).toBe(false);
  // The identity service answered the gateway's gRPC calls.
  expect(
    delta(before, after, 'grpc_server_handled_total', { grpc_service: 'assistants.identity.v1.OrganisationService', grpc_code: 'OK' }),
  ).toBeGreaterThanOrEqual(2);
});

it('counts a run’s items by action and outcome, and its batches while they wait', async () => {
  const organisation = await post('/v1/organisations', { extId: 'RUNS', label: 'Runs' });
  const users = [];
  for (let i = 0; i < 5; i++) {
    users.push(await post('/v1/users', { login: `run-${i}`, lastName: `Run ${i}`, firstName: 'R', organisationId: organisation.id }));
  }
  const audience = (await post('/v1/audiences', { name: 'Metrics' })).id;
  await post(`/v1/users/${users[0].id}/audiences`, { audienceIds: [audience] });
  const before = await scrapeMetrics(metricsUrl);
  expect(before.value('assistants_run_batches', { status: 'pending' })).toBe(0);
  const run = await post('/v1/runs', {
    assistant: 'users',
    action: 'U2',
    selection: { type: 'filter', filter: { login: 'run-' } },
    params: { audienceIds: [audience] },
  });
  await waitFor('the run to complete', async () => (await stack.http('GET', `/v1/runs/${run.id}`)).body.status === 'completed');
  const after = await scrapeMetrics(metricsUrl);
  expect(delta(before, after, 'assistants_run_items_total', { action: 'U2', outcome: 'succeeded' })).toBe(4);
  expect(delta(before, after, 'assistants_run_items_total', { action: 'U2', outcome: 'unchanged' })).toBe(1);
  expect(after.value('assistants_run_batches', { status: 'running' })).toBe(0);
});

it('counts an import’s rows by kind and outcome, and the finished job', async () => {
  const before = await scrapeMetrics(metricsUrl);
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('org_label;org_extid;parent_extid\nA;IMP-A;\nB;IMP-B;IMP-A\nC;IMP-C;NOPE\n')]), 'o.csv');
  const response = await fetch(`${stack.url}/v1/imports/kinds/organisations/uploads`, {
    method: 'POST',
    headers: { authorization: stack.adminAuth },
    body: form,
  });
  expect(response.status).toBe(201);
  const { uploadId } = (await response.json()) as { uploadId: string };
  const job = await post('/v1/imports', { uploadId });
  await waitFor('the import to finish', async () => (await stack.http('GET', `/v1/imports/${job.id}`)).body.status === 'completed');
  const after = await scrapeMetrics(metricsUrl);
  const rows = (outcome: string) =>
    delta(before, after, 'assistants_import_rows_total', { kind: 'organisations', outcome, dry_run: 'false' });
  expect([rows('added'), rows('rejected')]).toEqual([2, 1]);
  expect(delta(before, after, 'assistants_import_jobs_finished_total', { kind: 'organisations', status: 'completed' })).toBe(1);
  expect(after.value('assistants_import_jobs', { status: 'running' })).toBe(0);
  expect(after.value('assistants_import_running_job_idle_seconds')).toBe(0);
});

it('shows the services’ outboxes and consumers: events published, consumed, none waiting', async () => {
  // Identity's events (organisations and users made above) reach the statistics projections.
  const metrics = await waitFor('the identity events to be consumed', async () => {
    const m = await scrapeMetrics(metricsUrl);
    return m.find('assistants_consumer_pending_events').every((s) => s.value === 0) && m;
  });
  expect(metrics.value('assistants_outbox_published_total', { service: 'identity' })).toBeGreaterThan(0);
  expect(metrics.value('assistants_outbox_pending_events', { service: 'identity' })).toBe(0);
  const consumers = metrics.find('assistants_consumer_pending_events').map((s) => s.labels.consumer);
  expect(consumers.length).toBeGreaterThan(3);
  expect(metrics.value('assistants_consumer_events_total', { outcome: 'handled' })).toBeGreaterThan(0);
  // A dead letter gauge per consumer, all at 0.
  expect(metrics.find('assistants_dead_letters').filter((s) => s.value !== 0)).toEqual([]);
  expect(metrics.find('assistants_dead_letters').length).toBeGreaterThanOrEqual(consumers.length);
});

it('counts mails sent, and an export’s rows', async () => {
  const organisation = await post('/v1/organisations', { extId: 'MAILS', label: 'Mails' });
  const users = [];
  for (let i = 0; i < 2; i++) {
    users.push(
      await post('/v1/users', {
        login: `mail-${i}`,
        lastName: `Mail ${i}`,
        firstName: 'M',
        email: `mail-${i}@example.com`,
        organisationId: organisation.id,
      }),
    );
  }
  const before = await scrapeMetrics(metricsUrl);
  const run = await post('/v1/runs', {
    assistant: 'users',
    action: 'U16',
    selection: { type: 'ids', ids: users.map((u) => u.id) },
    params: { subject: 'News', text: 'Hello {{ user.first_name }}' },
  });
  await waitFor('the run to complete', async () => (await stack.http('GET', `/v1/runs/${run.id}`)).body.status === 'completed');
  await smtp.waitFor(2);
  const sent = await waitFor('the mails to be counted', async () => {
    const m = await scrapeMetrics(metricsUrl);
    return delta(before, m, 'assistants_mails_total', { outcome: 'sent' }) === 2 && m;
  });
  expect(delta(before, sent, 'assistants_mails_total', { outcome: 'failed' })).toBe(0);
  expect(sent.value('assistants_mails_queued')).toBe(0);

  const started = await post('/v1/exports', { columns: ['user.login'] });
  const job = await waitFor('the export to finish', async () => {
    const body = (await stack.http('GET', `/v1/exports/${started.id}`)).body;
    return ['done', 'failed'].includes(body.status) && body;
  });
  expect(job.status).toBe('done');
  expect(job.rowsWritten).toBeGreaterThan(0);
  const after = await scrapeMetrics(metricsUrl);
  expect(delta(sent, after, 'assistants_export_rows_total', {})).toBe(job.rowsWritten);
  expect(delta(sent, after, 'assistants_exports_finished_total', { status: 'done' })).toBe(1);
  expect(after.value('assistants_exports', { status: 'queued' })).toBe(0);
});
