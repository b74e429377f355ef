import { counter, gauge } from '@assistants/kit';
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
  /** The longest a request waits for its turn before 503. */
  maxWaitMs: number;
}

const inFlight = gauge('assistants_http_requests_in_flight', 'API requests being worked on (admitted)');
const queued = gauge('assistants_http_requests_queued', 'API requests waiting for their turn');
const shed = counter('assistants_http_requests_shed_total', 'API requests answered 503 without being worked on, by reason', ['reason']);

/** Admission control: at most `concurrency` API requests are worked on at once, the others
 * wait in arrival order (first come, first served).
 *
 * Why: under more load than the machine serves, every request in progress shares the CPU and
 * each statement of a request queues again at the services' connection pools, so a request
 * of four statements waits four times as long as a request of one, and the slowest requests
 * are several times the mean (bench:gateway, 200 administrators without think time: p99 2.5
 * × p50). In arrival order, a request waits once, then runs on a machine that is not
 * thrashing: its latency is the queue's length plus its own work. A request that has waited
 * `maxWaitMs`, or that finds `maxQueued` waiting, gets 503 with Retry-After, and a request
 * whose client goes away while it waits is dropped without being worked on. */
export function registerAdmission(app: FastifyInstance, options: AdmissionOptions): void {
  let active = 0;
  /** In arrival order; a request that left (its client, or its time) stays until its turn. */
  const waiting: Waiter[] = [];
  let stillWaiting = 0;
  const leave = () => {
    stillWaiting--;
    queued.dec();
  };

  const next = () => {
    while (active < options.concurrency && waiting.length > 0) {
      const waiter = waiting.shift()!;
      if (waiter.state !== 'waiting') continue;
      leave();
      waiter.admit();
    }
  };

  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.unqueued) return done();
    let timer: NodeJS.Timeout | undefined;
    const waiter: Waiter = {
      state: 'waiting',
      admit: () => {
        clearTimeout(timer);
        waiter.state = 'admitted';
        active++;
        inFlight.inc();
        done();
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
        leave();
      }
      waiter.state = 'over';
    });
    if (active < options.concurrency && stillWaiting === 0) return waiter.admit();
    if (stillWaiting >= options.maxQueued) {
      waiter.state = 'over';
      shed.inc({ reason: 'queue_full' });
      return overloaded(reply, 'the gateway has too many requests waiting: retry later');
    }
    timer = setTimeout(() => {
      waiter.state = 'over';
      leave();
      shed.inc({ reason: 'waited_too_long' });
      overloaded(reply, `the request waited ${options.maxWaitMs} ms for its turn: retry later`);
    }, options.maxWaitMs);
    waiting.push(waiter);
    stillWaiting++;
    queued.inc();
  });
}

interface Waiter {
  state: 'waiting' | 'admitted' | 'over';
  admit: () => void;
}

function overloaded(reply: FastifyReply, message: string) {
  reply.code(503).header('retry-after', 1).send({ error: 'overloaded', message });
}
