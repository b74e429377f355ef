import { join } from 'node:path';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import { freePort, scrapeMetrics, startIdentityFixture, TEST_SECURITY, waitFor, type IdentityFixture } from '@assistants/testing';
import { createLogger, grpcClient, startService, withContext, type RunningService, type ServiceDefinition } from '../src';

// A service started with its metrics server on: a gRPC call, events through the outbox and a
// consumer (one of them failing until it is a dead letter), each seen moving in a scrape of
// GET /metrics over HTTP.

const security = TEST_SECURITY;
let fixture: IdentityFixture;
let service: RunningService;
let ops: ReturnType<typeof grpcClient<OpsServiceClient>>;
let metricsUrl: string;
let stopped = false;

const gadgets: ServiceDefinition = {
  name: 'gadgets',
  defaultPort: 0,
  migrations: join(__dirname, 'fixtures', 'service-migrations'),
  stream: { name: 'GADGETS', subjects: ['gadgets.>'] },
  permissions: [],
  authority: ({ settings }) => identityAuthority(identityClient(fixture.identity.address, { security: settings.security })),
  grpc: () => [],
  consumers: () => [
    {
      stream: 'GADGETS',
      durable: 'gadgets-apply',
      subject: 'gadgets.gadget.>',
      handler: async (event) => {
        if ((event.data as { name: string }).name === 'broken') throw new Error('this one always fails');
      },
    },
  ],
};

beforeAll(async () => {
  fixture = await startIdentityFixture('metrics');
  const port = await freePort();
  service = await startService(gadgets, {
    logger: createLogger('gadgets', 'silent'),
    env: {
      ASSISTANTS_SERVICE_TOKEN: security.serviceToken,
      GADGETS_GRPC_PORT: '0',
      GADGETS_METRICS_PORT: String(port),
      GADGETS_DATABASE_URL: fixture.pg.url,
      NATS_URL: fixture.nats.url,
      EVENTS_MAX_DELIVERIES: '2',
    },
  });
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  ops = grpcClient(OpsServiceClient, service.address, { security, serviceName: 'gadgets' });
}, 60_000);

afterAll(async () => {
  ops?.close();
  if (!stopped) await service?.stop();
  await fixture?.stop();
});

const make = (name: string) => service.outbox.transaction(async (_tx, emit) => emit('gadgets.gadget.made.v1', { name }));

it('serves GET /metrics on its metrics port, Node’s own metrics included, and nothing else there', async () => {
  expect(service.metricsPort).toBe(Number(new URL(metricsUrl).port));
  const metrics = await scrapeMetrics(metricsUrl);
  expect(metrics.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  expect(metrics.value('nodejs_eventloop_lag_seconds')).toBeDefined();
  expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
});

it('counts and times gRPC calls by service, method and status code', async () => {
  const labels = { grpc_service: 'assistants.ops.v1.OpsService', grpc_method: 'GetEventStatus' };
  const before = await scrapeMetrics(metricsUrl);
  await withContext({ actorId: fixture.adminId }, () => ops.getEventStatus({}));
  await withContext({ actorId: fixture.adminId }, () => ops.getEventStatus({}));
  await expect(ops.getEventStatus({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  const after = await scrapeMetrics(metricsUrl);
  const delta = (code: string) =>
    (after.value('grpc_server_handled_total', { ...labels, grpc_code: code }) ?? 0) -
    (before.value('grpc_server_handled_total', { ...labels, grpc_code: code }) ?? 0);
  expect([delta('OK'), delta('UNAUTHENTICATED')]).toEqual([2, 1]);
  expect(
    (after.value('grpc_server_handling_seconds_count', labels) ?? 0) - (before.value('grpc_server_handling_seconds_count', labels) ?? 0),
  ).toBe(3);
});

it('shows the outbox backlog and its age while the relay is stopped, and what it published once it runs', async () => {
  const published = (await scrapeMetrics(metricsUrl)).value('assistants_outbox_published_total', { service: 'gadgets' }) ?? 0;
  await service.outbox.stop();
  await make('first');
  await make('second');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const waiting = await scrapeMetrics(metricsUrl);
  expect(waiting.value('assistants_outbox_pending_events', { service: 'gadgets' })).toBe(2);
  expect(waiting.value('assistants_outbox_oldest_pending_age_seconds', { service: 'gadgets' })).toBeGreaterThanOrEqual(1);

  service.outbox.start();
  const drained = await waitFor('the outbox to drain', async () => {
    const m = await scrapeMetrics(metricsUrl);
    return m.value('assistants_outbox_pending_events', { service: 'gadgets' }) === 0 && m;
  });
  expect(drained.value('assistants_outbox_oldest_pending_age_seconds', { service: 'gadgets' })).toBe(0);
  expect(drained.value('assistants_outbox_published_total', { service: 'gadgets' })).toBe(published + 2);
  const handled = await waitFor('the consumer to handle both events', async () => {
    const m = await scrapeMetrics(metricsUrl);
    return (m.value('assistants_consumer_events_total', { consumer: 'gadgets-apply', outcome: 'handled' }) ?? 0) >= 2 && m;
  });
  // Consumer lag as JetStream reports it: nothing left to deliver.
  expect(handled.value('assistants_consumer_pending_events', { consumer: 'gadgets-apply' })).toBe(0);
  expect(handled.value('assistants_consumer_ack_pending_events', { consumer: 'gadgets-apply' })).toBe(0);
  expect(handled.value('assistants_dead_letters', { service: 'gadgets', consumer: 'gadgets-apply' })).toBe(0);
});

it('counts a failing event’s retry and redelivery, then shows it as a dead letter', async () => {
  await make('broken');
  const after = await waitFor(
    'a dead letter',
    async () => {
      const m = await scrapeMetrics(metricsUrl);
      return m.value('assistants_dead_letters', { service: 'gadgets', consumer: 'gadgets-apply' }) === 1 && m;
    },
    30_000,
  );
  const consumer = { consumer: 'gadgets-apply' };
  expect(after.value('assistants_consumer_events_total', { ...consumer, outcome: 'retried' })).toBe(1);
  expect(after.value('assistants_consumer_events_total', { ...consumer, outcome: 'dead_lettered' })).toBe(1);
  expect(after.value('assistants_consumer_redeliveries_total', consumer)).toBe(1);
  expect(after.value('assistants_metrics_collect_failures_total', { collector: 'gadgets' })).toBeUndefined();
});

it('stops serving metrics when the service stops', async () => {
  stopped = true;
  await service.stop();
  await expect(fetch(metricsUrl)).rejects.toThrow();
});
