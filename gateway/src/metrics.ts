import { counter, histogram, scrapedGauge, type Database } from '@assistants/kit';
import type { FastifyInstance } from 'fastify';

/*
 * The gateway's metrics (served with the kit's registry on its health port, GET /metrics):
 * its API's requests, the runs its workers carry out, the run batches waiting. Routes are
 * labelled by their pattern (/v1/users/:id), never by the path a caller sent.
 */

const httpRequests = counter('assistants_http_requests_total', 'API requests answered, by method, route pattern and status code', [
  'method',
  'route',
  'status',
]);
const httpSeconds = histogram(
  'assistants_http_request_duration_seconds',
  'time from an API request’s arrival to its answer, by method and route pattern',
  ['method', 'route'],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);

/** Counts and times every API request from a fastify hook. A path that matches no route is
 * "(unmatched)": scanners must not make a series per path they try. */
export function instrumentHttp(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    const labels = { method: request.method, route };
    httpRequests.inc({ ...labels, status: String(reply.statusCode) });
    httpSeconds.observe(labels, reply.elapsedTime / 1000);
  });
}

const runItems = counter('assistants_run_items_total', 'run items the run workers applied, by action and outcome', ['action', 'outcome']);

/** A batch's items are done: `outcomes` holds one outcome per result row. An item counts once,
 * as failed when any of its results failed, else succeeded when any did, else unchanged. */
export function countRunItems(action: string, results: { seq: number; outcome: 'succeeded' | 'unchanged' | 'failed' }[]): void {
  const rank = { unchanged: 0, succeeded: 1, failed: 2 } as const;
  const items = new Map<number, keyof typeof rank>();
  for (const { seq, outcome } of results) {
    const before = items.get(seq);
    if (before === undefined || rank[outcome] > rank[before]) items.set(seq, outcome);
  }
  for (const outcome of items.values()) runItems.inc({ action, outcome });
}

const runBatches = scrapedGauge('assistants_run_batches', 'batches of runs not done yet, by status', ['status']);
const oldestRunBatch = scrapedGauge(
  'assistants_run_oldest_waiting_batch_age_seconds',
  'age of the run whose batches wait the longest (0 when none)',
);

/** The run batches waiting or in progress, read from the gateway's database at each scrape. */
export async function collectRunMetrics(db: Database): Promise<void> {
  const { rows } = await db.query<{ status: string; n: string; age: string | null }>(
    `SELECT b.status, count(*) AS n, extract(epoch FROM now() - min(r.created_at)) AS age
       FROM run_batches b JOIN runs r ON r.id = b.run_id
      WHERE b.status IN ('pending', 'running') GROUP BY b.status`,
  );
  runBatches.set({ status: 'pending' }, 0);
  runBatches.set({ status: 'running' }, 0);
  for (const row of rows) runBatches.set({ status: row.status }, Number(row.n));
  oldestRunBatch.set(Math.max(0, ...rows.map((r) => Number(r.age ?? 0))));
}
