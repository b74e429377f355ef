import { createServer } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger';

/*
 * Prometheus metrics. One registry per process: a deployed part is one process, so what it
 * serves is that part's; a test that runs several services in one process sees them all in
 * one scrape (the gauges carry a `service` label where the same name would meet). Labels
 * take values from short fixed lists only (service, method, status code, consumer, outcome,
 * kind): never an id, a login or a path with ids in it.
 */

/** How often the event loop's lag is sampled. prom-client's default (10 ms) wakes every process
 * 100 times a second: 9 ms of CPU a second each on a 2-core virtual machine, the whole idle
 * cost of a service (0.4 ms a second without it, 1.1 at 100 ms), and CPU a suite at work
 * lacks (bench:import case c: the hashes get what the other processes leave). Ten samples a
 * second still show a loop that lags. */
const EVENT_LOOP_SAMPLE_MS = 100;

/** The registry every metric of this process is in, with Node's own (CPU, memory, event
 * loop lag, heap, handles). */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

/** A counter in the process registry; the same one when asked again by name. */
export function counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  const known = metricsRegistry.getSingleMetric(name);
  if (known) return known as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [metricsRegistry] });
}

/** A histogram in the process registry; the same one when asked again by name. */
export function histogram<L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets?: number[],
): Histogram<L> {
  const known = metricsRegistry.getSingleMetric(name);
  if (known) return known as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets, registers: [metricsRegistry] });
}

/** A gauge in the process registry, set by the code that knows its value as it changes; the
 * same one when asked again by name. */
export function gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const known = metricsRegistry.getSingleMetric(name);
  if (known) return known as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [metricsRegistry] });
}

const scraped = new Set<Gauge<string>>();

/** A gauge set by collectors (onScrape) from tables or NATS, right before each scrape: it is
 * emptied first, so a service that stopped, or a collector that failed, leaves no stale value. */
export function scrapedGauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const known = metricsRegistry.getSingleMetric(name);
  if (known) return known as Gauge<L>;
  const gauge = new Gauge({ name, help, labelNames, registers: [metricsRegistry] });
  scraped.add(gauge as Gauge<string>);
  return gauge;
}

const collectFailures = counter('assistants_metrics_collect_failures_total', 'collectors that failed or timed out during a scrape', [
  'collector',
]);

interface Collector {
  name: string;
  collect: () => Promise<void>;
  logger: Logger;
}

const collectors = new Set<Collector>();

/** Runs `collect` before each scrape (it sets scrapedGauges); returns the function that
 * removes it. `name` (e.g. the service's) labels its failures. */
export function onScrape(name: string, logger: Logger, collect: () => Promise<void>): () => void {
  const collector = { name, collect, logger };
  collectors.add(collector);
  return () => collectors.delete(collector);
}

/** How long a collector may take: Prometheus gives up a scrape after 10 s by default. */
const COLLECT_TIMEOUT_MS = 5000;

let scraping: Promise<string> | undefined;

/** The text exposition of every metric of the process, scraped gauges collected afresh.
 * Scrapes that arrive together share one collection. */
export function metricsText(): Promise<string> {
  scraping ??= (async () => {
    for (const gauge of scraped) gauge.reset();
    await Promise.all(
      [...collectors].map(async ({ name, collect, logger }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            collect(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`metrics of ${name} not collected within ${COLLECT_TIMEOUT_MS} ms`)),
                COLLECT_TIMEOUT_MS,
              );
            }),
          ]);
        } catch (err) {
          collectFailures.inc({ collector: name });
          logger.warn({ err }, 'collecting metrics failed: this scrape lacks some of them');
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return metricsRegistry.metrics();
  })().finally(() => (scraping = undefined));
  return scraping;
}

/** The content type of metricsText(). */
export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

export interface MetricsServer {
  port: number;
  stop(): Promise<void>;
}

/** An HTTP server answering GET /metrics (and nothing else) for Prometheus, on its own port
 * so that the API and gRPC ports stay authenticated: it shows counts and timings only, and
 * the NetworkPolicy lets only the monitoring namespace reach it. */
export async function startMetricsServer(options: { host: string; port: number; logger: Logger }): Promise<MetricsServer> {
  const { logger } = options;
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metricsText().then(
      (text) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(request.method === 'HEAD' ? undefined : text),
      (err) => {
        logger.error({ err }, 'metrics could not be rendered');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  logger.info({ port }, 'metrics server listening (GET /metrics)');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
