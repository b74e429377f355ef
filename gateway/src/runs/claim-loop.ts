import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DomainError, withCorrelationId, type ErrorCode, type Logger } from '@assistants/kit';

/** A service that is away or overloaded, or a change rolled back by a concurrent one
 * (ABORTED: a deadlock): the work is sent again later, however long it takes, and goes on
 * when the service is back. */
export const TRANSIENT: ErrorCode[] = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED'];
/** Work that fails without a domain error (a bug, an internal error of its service) is tried
 * this many times before it is reported failed. */
export const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 30_000;

/** Whether a failed call is tried again later (after `backoff`): a service away, or an
 * unexpected error not yet tried MAX_ATTEMPTS times. A domain error is an answer. */
export function retriable(err: unknown, attempts: number): boolean {
  const code = err instanceof DomainError ? err.code : undefined;
  return (code !== undefined && TRANSIENT.includes(code)) || (code === undefined && attempts < MAX_ATTEMPTS);
}

/** Exponential, from 1 s to 30 s, with jitter so that replicas do not retry in step. */
export function backoff(attempts: number): number {
  const base = Math.min(1000 * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export interface ClaimLoopOptions {
  logger: Logger;
  /** Claimed pieces of work handled at once by this process; 0: none (API-only replica). */
  concurrency: number;
  /** After a look that found work, or while work is in flight, the next look comes after this. */
  pollMs: number;
  /** After each look that found nothing, the next one waits twice as long, up to this: an idle
   * replica polls the database every few seconds, not every second. */
  idlePollMs: number;
}

/**
 * The loop every gateway process runs for persisted work that any replica may carry out
 * (run batches, merges): claim a piece (with a lease, in the database), handle it, look for
 * the next one at once when one ends, after `pollMs` while it works, and less and less often
 * (up to `idlePollMs`) while it finds nothing. Work created in this process wakes it at once;
 * work created or released by another replica is found within `idlePollMs`. What a claim and
 * its handling are is the subclass's.
 */
export abstract class ClaimLoop<T> {
  /** This process, as a lease holder (unique per start). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** The wait before the next look while nothing is found, and its ceiling. */
  private idleMs: number;
  private readonly maxIdleMs: number;

  constructor(private readonly loop: ClaimLoopOptions & { name: string }) {
    this.idleMs = loop.pollMs;
    this.maxIdleMs = Math.max(loop.idlePollMs, loop.pollMs);
  }

  /** The next piece of work, leased to `owner`; undefined when there is none. */
  protected abstract claim(): Promise<T | undefined>;
  /** Handles a claimed piece; an error thrown is logged and the lease left to run out. */
  protected abstract execute(claimed: T): Promise<void>;

  start(): void {
    if (this.loop.concurrency === 0) return;
    this.stopped = false;
    this.wake();
  }

  /** Looks for work now (some was just created here, or a piece just ended). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    // Detached from whatever request woke it: the work acts for its creators only.
    this.timer = setTimeout(
      () =>
        withCorrelationId(`${this.loop.name}:${this.owner}`, () => {
          this.ticking = this.tick().then((found) => {
            this.ticking = undefined;
            if (this.stopped) return;
            this.idleMs = found || this.inFlight.size > 0 ? this.loop.pollMs : Math.min(this.idleMs * 2, this.maxIdleMs);
            this.schedule(this.again ? 0 : this.idleMs);
          });
        }),
      ms,
    );
  }

  /** Stops claiming, and waits for the work in flight to be stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims work while this process has room for it; whether it found any. */
  private async tick(): Promise<boolean> {
    const { logger, concurrency, name } = this.loop;
    let found = false;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.inFlight.size < concurrency) {
          const claimed = await this.claim();
          if (!claimed) break;
          found = true;
          const work: Promise<void> = this.execute(claimed)
            .catch((err) => logger.error({ err, claimed }, `${name}: work not stored: it will be taken up again`))
            .finally(() => {
              this.inFlight.delete(work);
              this.wake();
            });
          this.inFlight.add(work);
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      logger.error({ err }, `${name}: cannot claim work: trying again`);
    }
    return found;
  }
}

/** Renews a lease every third of its length while its work goes on; returns the stop. */
export function keepLease(leaseSeconds: number, renew: () => Promise<void>, log: Logger): () => void {
  const timer = setInterval(() => void renew().catch((err) => log.warn({ err }, 'cannot renew a lease')), (leaseSeconds * 1000) / 3);
  return () => clearInterval(timer);
}
