import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from '@assistants/kit';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAdmission } from '../src/admission';

// The admission queue on its own: a fastify server with routes that wait until the test lets
// them answer, called over real HTTP connections.

let app: FastifyInstance;
let base: string;
/** The requests the slow route is working on, in the order they reached it. */
const working: { n: number; finish: () => void }[] = [];

async function start(options: { concurrency: number; maxQueued: number; maxWaitMs: number }) {
  app = Fastify();
  registerAdmission(app, options);
  app.get<{ Querystring: { n: string } }>('/slow', async (request) => {
    await new Promise<void>((finish) => working.push({ n: Number(request.query.n), finish }));
    return { n: Number(request.query.n) };
  });
  app.get('/download', { config: { unqueued: true } }, async () => ({ unqueued: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function get(path: string): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') };
}

const gauge = async (name: string) => (await metricsRegistry.getSingleMetric(name)!.get()).values[0]?.value;
const admitted = () => gauge('assistants_http_requests_in_flight');
const queued = () => gauge('assistants_http_requests_queued');

const until = async (condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await condition()).toBe(true);
};

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
