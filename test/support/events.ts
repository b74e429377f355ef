import { randomUUID } from 'node:crypto';
import { DomainError, eventsOf, withCorrelationId, type Bus, type EventEnvelope } from '@assistants/kit';

/** Every event stored in a stream, oldest first (for assertions on what was published);
 * from sequence number `fromSeq` on when given, to read only what came after a point. */
export async function readStream(bus: Bus, stream: string, fromSeq = 1): Promise<EventEnvelope[]> {
  return (await readStreamFrom(bus, stream, fromSeq)).events;
}

/** readStream, with the sequence number of the stream's next message (a message holds one
 * event or a batch of them: eventsOf). */
export async function readStreamFrom(bus: Bus, stream: string, fromSeq: number): Promise<{ events: EventEnvelope[]; nextSeq: number }> {
  const info = await bus.jsm.streams.info(stream);
  const events: EventEnvelope[] = [];
  const nextSeq = Math.max(fromSeq, info.state.last_seq + 1);
  if (info.state.messages === 0) return { events, nextSeq };
  for (let seq = Math.max(info.state.first_seq, fromSeq); seq <= info.state.last_seq; seq++) {
    const message = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message) events.push(...eventsOf(message.json()));
  }
  return { events, nextSeq };
}

/** The events of one service's stream, read in order: each call to next() returns those
 * published since the previous call (after publishing everything the service's outbox holds). */
export class EventLog {
  /** The stream's sequence numbers start at 1 and have no gaps (nothing is deleted). */
  private nextSeq = 1;

  constructor(
    private readonly service: { bus: Bus; flushEvents(): Promise<void> },
    private readonly stream: string,
  ) {}

  async next(): Promise<EventEnvelope[]> {
    await this.service.flushEvents();
    const { events, nextSeq } = await readStreamFrom(this.service.bus, this.stream, this.nextSeq);
    this.nextSeq = nextSeq;
    return events;
  }

  /** Runs `fn` with a new correlation id (the kit's gRPC client forwards it) and returns
   * its result with the events published meanwhile. */
  async act<T>(fn: () => Promise<T>): Promise<{ result: T; events: EventEnvelope[]; correlationId: string }> {
    await this.next();
    const correlationId = randomUUID();
    const result = await withCorrelationId(correlationId, fn);
    return { result, events: await this.next(), correlationId };
  }

  /** Runs `fn`, which must fail with a DomainError; returns it, and checks that nothing was
   * published. */
  async refused(fn: () => Promise<unknown>): Promise<DomainError> {
    await this.next();
    const err = await withCorrelationId(randomUUID(), fn).then(
      () => {
        throw new Error('expected the call to be refused');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    expect(await this.next()).toEqual([]);
    return err as DomainError;
  }
}
