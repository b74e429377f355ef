import type { Bus, EventEnvelope } from '@assistants/kit';

/** Every event stored in a stream, oldest first (for assertions on what was published);
 * from sequence number `fromSeq` on when given, to read only what came after a point. */
export async function readStream(bus: Bus, stream: string, fromSeq = 1): Promise<EventEnvelope[]> {
  const info = await bus.jsm.streams.info(stream);
  const events: EventEnvelope[] = [];
  if (info.state.messages === 0) return events;
  for (let seq = Math.max(info.state.first_seq, fromSeq); seq <= info.state.last_seq; seq++) {
    const message = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message) events.push(message.json<EventEnvelope>());
  }
  return events;
}
