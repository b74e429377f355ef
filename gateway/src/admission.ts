import { bindContext, counter, gauge } from '@assistants/kit';
import type { FastifyInstance, FastifyReply } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is not admitted through the queue: a transfer that lasts as long as its
     * client takes (an upload, a download) would hold a place all that time. */
    unqueued?: boolean;
  }
}

export interface AdmissionOptions {
  /** API requests worked on at once by this process; the others wait their turn. */
  concurrency: number;
  /** Requests waiting at most; past that, 503 at once. */
  maxQueued: number;
  /** Requests of one caller waiting at most; past that, 503 at once for that caller. */
  maxQueuedPerCaller: number;
  /** The longest a request waits for its turn before 503. */
  maxWaitMs: number;
}

const inFlight = gauge('assistants_http_requests_in_flight', 'API requests being worked on (admitted)');
const queued = gauge('assistants_http_requests_queued', 'API requests waiting for their turn');
const shed = counter('assistants_http_requests_shed_total', 'API requests answered 503 without being worked on, by reason', ['reason']);

/** Admission control: at most `concurrency` API requests are worked on at once; the others
 * wait, callers taking turns, each caller's requests in arrival order.
 *
 * Why a queue: under more load than the machine serves, every request in progress shares the
 * CPU and each statement of a request queues again at the services' connection pools, so a
 * request of four statements waits four times as long as a request of one, and the slowest
 * requests are several times the mean (bench:gateway, 200 administrators without think time:
 * p99 2.5 × p50). Admitted in turn, a request waits once, then runs on a machine that is not
 * thrashing: its latency is the queue's length plus its own work.
 *
 * Why turns: a script sending a hundred requests at once would otherwise put every other
 * administrator behind all of them; with turns, another caller's request waits behind at most
 * one request of each caller already waiting. A caller is its credential (the Authorization
 * header; the client address without one): the queue runs before authentication, so that
 * checking credentials waits its turn too.
 *
 * A request that has waited `maxWaitMs`, or that finds `maxQueued` waiting (or
 * `maxQueuedPerCaller` of its caller's), gets 503 with Retry-After, and a request whose client
 * goes away while it waits is dropped without being worked on. */
export function registerAdmission(app: FastifyInstance, options: AdmissionOptions): void {
  let active = 0;
  /** The callers with requests waiting, in turn order (a Map keeps insertion order: a caller
   * just served goes to the back). A request that left (its client, or its time) stays in its
   * line until its turn. */
  const lines = new Map<string, Line>();
  let stillWaiting = 0;
  const leave = (waiter: Waiter) => {
    waiter.line.waiting--;
    stillWaiting--;
    queued.dec();
  };

  const next = () => {
    while (active < options.concurrency && lines.size > 0) {
      const [caller, line] = lines.entries().next().value!;
      lines.delete(caller);
      const waiter = line.waiters.shift()!;
      if (line.waiters.length > 0) lines.set(caller, line);
      if (waiter.state !== 'waiting') continue;
      leave(waiter);
      waiter.admit();
    }
  };

  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.unqueued) return done();
    const caller = request.headers.authorization ?? `address ${request.ip}`;
    let timer: NodeJS.Timeout | undefined;
    let proceed = done;
    const line = lines.get(caller) ?? { waiters: [], waiting: 0 };
    const waiter: Waiter = {
      state: 'waiting',
      line,
      admit: () => {
        clearTimeout(timer);
        waiter.state = 'admitted';
        active++;
        inFlight.inc();
        proceed();
      },
    };
    // 'close' comes once the response is sent, or when the client goes away before.
    reply.raw.once('close', () => {
      if (waiter.state === 'admitted') {
        active--;
        inFlight.dec();
        next();
      } else if (waiter.state === 'waiting') {
        clearTimeout(timer);
        leave(waiter);
      }
      waiter.state = 'over';
    });
    if (active < options.concurrency && stillWaiting === 0) return waiter.admit();
    if (stillWaiting >= options.maxQueued) {
      waiter.state = 'over';
      shed.inc({ reason: 'queue_full' });
      return overloaded(reply, 'the gateway has too many requests waiting: retry later');
    }
    if (line.waiting >= options.maxQueuedPerCaller) {
      waiter.state = 'over';
      shed.inc({ reason: 'caller_queue_full' });
      return overloaded(reply, `you have ${line.waiting} requests waiting already: wait for their answers, then retry`);
    }
    // It will be admitted from another request's end: it goes on in its own context.
    proceed = bindContext(done);
    timer = setTimeout(() => {
      waiter.state = 'over';
      leave(waiter);
      shed.inc({ reason: 'waited_too_long' });
      overloaded(reply, `the request waited ${options.maxWaitMs} ms for its turn: retry later`);
    }, options.maxWaitMs);
    line.waiters.push(waiter);
    line.waiting++;
    if (!lines.has(caller)) lines.set(caller, line);
    stillWaiting++;
    queued.inc();
  });
}

/** One caller's waiting requests, in arrival order. */
interface Line {
  waiters: Waiter[];
  /** Those still waiting (the others left: their client, or their time). */
  waiting: number;
}

interface Waiter {
  state: 'waiting' | 'admitted' | 'over';
  line: Line;
  admit: () => void;
}

function overloaded(reply: FastifyReply, message: string) {
  reply.code(503).header('retry-after', 1).send({ error: 'overloaded', message });
}
