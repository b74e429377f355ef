import { createLogger } from '@assistants/kit';
import { ClaimLoop } from '../src/runs/claim-loop';

// The claim loop's pace, on its own (fake timers, work that is a number): it looks again after
// pollMs while it finds work, twice as late after each empty look up to idlePollMs, and at
// once when woken.

class Loop extends ClaimLoop<number> {
  /** When each look happened (fake time, ms from the start). */
  readonly looks: number[] = [];
  /** What the next looks find, in order; nothing once empty. */
  readonly queue: number[] = [];
  constructor(private readonly origin: number) {
    super({ name: 'test-loop', logger: createLogger('test', 'silent'), concurrency: 1, pollMs: 100, idlePollMs: 800 });
  }
  protected async claim() {
    this.looks.push(Date.now() - this.origin);
    return this.queue.shift();
  }
  protected async execute() {}
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('looks less and less often while it finds nothing, from pollMs again once it found work, and at once when woken', async () => {
  const loop = new Loop(Date.now());
  loop.start();
  await jest.advanceTimersByTimeAsync(3_000);
  // 0, then after 200, 400, 800, 800…
  expect(loop.looks.slice(0, 6)).toEqual([0, 200, 600, 1400, 2200, 3000]);

  // Another replica creates work: found within idlePollMs, then looked for again at pollMs.
  loop.looks.length = 0;
  loop.queue.push(1);
  await jest.advanceTimersByTimeAsync(800);
  expect(loop.looks[0]).toBe(3800);
  await jest.advanceTimersByTimeAsync(2_000);
  // Its end wakes the loop (a look at once, 1 ms later: empty), then the waits double again
  // from pollMs: 200, 400, 800.
  expect(loop.looks.filter((t) => t > 3800)).toEqual([3801, 4001, 4401, 5201]);

  // Work created here wakes it at once.
  const before = loop.looks.length;
  loop.queue.push(2);
  loop.wake();
  await jest.advanceTimersByTimeAsync(0);
  expect(loop.looks.length).toBe(before + 1);
  await loop.stop();
});
