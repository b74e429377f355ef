import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bindActor, currentContext, currentCorrelationId, metricsRegistry, runWithCorrelationId } from '@assistants/kit';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAdmission } from '../src/admission';

// The admission queue on its own: a fastify server with routes that wait until the test lets
// them answer, called over real HTTP connections.

let app: FastifyInstance;
let base: string;
/** The requests the slow route is working on, in the order they reached it. */
const working: { n: number; finish: () => void }[] = [];

async function start(options: { concurrency: number; maxQueued: number; maxWaitMs: number; maxQueuedPerCaller?: number }) {
  app = Fastify();
  registerAdmission(app, { maxQueuedPerCaller: 1_000, ...options });
  app.get<{ Querystring: { n: string } }>('/slow', async (request) => {
    await new Promise<void>((finish) => working.push({ n: Number(request.query.n), finish }));
    return { n: Number(request.query.n) };
  });
  app.get('/download', { config: { unqueued: true } }, async () => ({ unqueued: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function get(path: string, authorization?: string): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const response = await fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') };
}

const gauge = async (name: string) => (await metricsRegistry.getSingleMetric(name)!.get()).values[0]?.value;
const admitted = () => gauge('assistants_http_requests_in_flight');
const queued = () => gauge('assistants_http_requests_queued');

const until = async (condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await condition()).toBe(true);
};

beforeEach(() => metricsRegistry.resetMetrics());

afterEach(async () => {
  working.splice(0).forEach((w) => w.finish());
  await app.close();
});

it('works on `concurrency` requests at once; the others get their turn in arrival order', async () => {
  await start({ concurrency: 2, maxQueued: 10, maxWaitMs: 10_000 });
  const answers: Promise<{ status: number; body: any }>[] = [];
  for (let n = 1; n <= 5; n++) {
    answers.push(get(`/slow?n=${n}`));
    // Each one reaches the server before the next one is sent.
    await until(async () => working.length + (await queued()) === n);
  }
  expect(working.map((w) => w.n)).toEqual([1, 2]);
  expect(await admitted()).toBe(2);
  expect(await queued()).toBe(3);

  // A transfer route does not wait behind them.
  expect(await get('/download')).toMatchObject({ status: 200, body: { unqueued: true } });

  for (let done = 0; done < 5; done++) {
    await until(() => working.length > done);
    working[done].finish();
  }
  expect((await Promise.all(answers)).map((a) => [a.status, a.body.n])).toEqual([1, 2, 3, 4, 5].map((n) => [200, n]));
  expect(working.map((w) => w.n)).toEqual([1, 2, 3, 4, 5]);
  await until(async () => (await admitted()) === 0);
  expect(await queued()).toBe(0);
});

it('lets callers take turns: another caller waits behind one request of a caller with many', async () => {
  await start({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000 });
  const answers: Promise<{ status: number; body: any }>[] = [];
  // A script sends 1–4 at once, then an administrator sends 5, then the script 6.
  const callers = { 1: 'script', 2: 'script', 3: 'script', 4: 'script', 5: 'admin', 6: 'script' } as Record<number, string>;
  for (let n = 1; n <= 6; n++) {
    answers.push(get(`/slow?n=${n}`, `Bearer ${callers[n]}`));
    await until(async () => working.length + (await queued()) === n);
  }
  for (let done = 0; done < 6; done++) {
    await until(() => working.length > done);
    working[done].finish();
  }
  expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  // 1 was worked on at once; of those waiting, the script's 2 came first, then the
  // administrator's turn.
  expect(working.map((w) => w.n)).toEqual([1, 2, 5, 3, 4, 6]);
});

it('answers 503 to a caller with too many requests waiting, not to the others', async () => {
  await start({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000, maxQueuedPerCaller: 2 });
  const first = get('/slow?n=1', 'Bearer script');
  await until(() => working.length === 1);
  const waiting = [get('/slow?n=2', 'Bearer script'), get('/slow?n=3', 'Bearer script')];
  await until(async () => (await queued()) === 2);
  const refused = await get('/slow?n=4', 'Bearer script');
  expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'overloaded' } });
  expect(refused.body.message).toMatch(/you have 2 requests waiting/);
  // Another caller, and a request without credentials (its address is its caller), still wait their turn.
  const others = [get('/slow?n=5', 'Bearer admin'), get('/slow?n=6')];
  await until(async () => (await queued()) === 4);

  for (let done = 0; done < 5; done++) {
    await until(() => working.length > done);
    working[done].finish();
  }
  expect([await first, ...(await Promise.all([...waiting, ...others]))].map((a) => [a.status, a.body.n])).toEqual(
    [1, 2, 3, 5, 6].map((n) => [200, n]),
  );
  expect(working.map((w) => w.n)).toEqual([1, 2, 5, 6, 3]);
  const shed = (await metricsRegistry.getSingleMetric('assistants_http_requests_shed_total')!.get()).values;
  expect(shed.find((v) => v.labels.reason === 'caller_queue_full')?.value).toBe(1);
});

it('answers 503 with Retry-After when the queue is full or a request waited too long', async () => {
  await start({ concurrency: 1, maxQueued: 1, maxWaitMs: 300 });
  const first = get('/slow?n=1');
  await until(() => working.length === 1);
  const second = get('/slow?n=2');
  await until(async () => (await queued()) === 1);

  const third = await get('/slow?n=3');
  expect(third).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'overloaded' } });
  expect(third.body.message).toMatch(/too many requests waiting/);

  const waited = await second;
  expect(waited).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'overloaded' } });
  expect(waited.body.message).toMatch(/waited 300 ms/);

  working[0].finish();
  expect(await first).toMatchObject({ status: 200, body: { n: 1 } });
  // Neither refused request was worked on.
  expect(working.map((w) => w.n)).toEqual([1]);
  const shed = (await metricsRegistry.getSingleMetric('assistants_http_requests_shed_total')!.get()).values;
  expect(shed.map((v) => v.labels.reason).sort()).toEqual(['queue_full', 'waited_too_long']);
});

it('drops a waiting request whose client went away, without working on it', async () => {
  await start({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000 });
  const first = get('/slow?n=1');
  await until(() => working.length === 1);
  const gone = httpRequest(`${base}/slow?n=2`);
  gone.on('error', () => {});
  gone.end();
  await until(async () => (await queued()) === 1);
  gone.destroy();
  await until(async () => (await queued()) === 0);
  const third = get('/slow?n=3');
  await until(async () => (await queued()) === 1);

  working[0].finish();
  await until(() => working.length === 2);
  working[1].finish();
  expect(await first).toMatchObject({ status: 200, body: { n: 1 } });
  expect(await third).toMatchObject({ status: 200, body: { n: 3 } });
  expect(working.map((w) => w.n)).toEqual([1, 3]);
});

it('lets a request that waited go on in its own context, not in that of the request whose end admitted it', async () => {
  // As in the gateway: each request runs in a context of its own (its correlation id, then its
  // acting user); the queue comes after.
  app = Fastify();
  app.addHook('onRequest', (request, _reply, done) => runWithCorrelationId(String(request.headers['x-request']), done));
  registerAdmission(app, { concurrency: 1, maxQueued: 10, maxWaitMs: 10_000, maxQueuedPerCaller: 10 });
  app.addHook('onRequest', async (request) => bindActor(`actor of ${request.headers['x-request']}`));
  app.get('/context', async (request) => {
    if (request.headers['x-request'] === 'first') await new Promise<void>((finish) => working.push({ n: 1, finish }));
    await new Promise((resolve) => setImmediate(resolve));
    return { correlationId: currentCorrelationId(), actorId: currentContext()?.actorId };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const ask = async (name: string) => (await fetch(`${base}/context`, { headers: { 'x-request': name } })).json();

  const first = ask('first');
  await until(() => working.length === 1);
  const waiting = [ask('second'), ask('third')];
  await until(async () => (await queued()) === 2);
  working[0].finish();
  expect(await Promise.all([first, ...waiting])).toEqual(
    ['first', 'second', 'third'].map((name) => ({ correlationId: name, actorId: `actor of ${name}` })),
  );
});
