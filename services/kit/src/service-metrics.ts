import type { Consumer } from './consumer';
import type { Queryable } from './db';
import { deadLetterCount } from './dead-letters';
import { scrapedGauge } from './metrics';
import { outboxStatus } from './outbox';

/*
 * What every service shows of its events, read at each scrape: from its kit tables (the
 * outbox and the dead letters: every replica reads the same rows, so take max() across
 * replicas, not sum()) and from JetStream (each durable consumer is shared by the replicas,
 * same rule).
 */

const outboxPending = scrapedGauge(
  'assistants_outbox_pending_events',
  'messages stored in kit_outbox (an event, or a batch of up to 100), not published yet',
  ['service'],
);
const outboxOldest = scrapedGauge(
  'assistants_outbox_oldest_pending_age_seconds',
  'age of the oldest event waiting in kit_outbox (0 when none)',
  ['service'],
);
const outboxUnpublishable = scrapedGauge(
  'assistants_outbox_unpublishable_events',
  'messages (an event, or a batch) in kit_outbox_unpublishable, waiting for an operator',
  ['service'],
);
const deadLetters = scrapedGauge('assistants_dead_letters', 'events in kit_dead_letters, by consumer', ['service', 'consumer']);
const consumerPending = scrapedGauge(
  'assistants_consumer_pending_events',
  'messages (an event, or a batch of up to 100) in the stream not delivered to the consumer yet (JetStream num_pending)',
  ['consumer'],
);
const consumerAckPending = scrapedGauge(
  'assistants_consumer_ack_pending_events',
  'messages delivered to the consumer and not acknowledged yet (JetStream num_ack_pending)',
  ['consumer'],
);
const consumerRedelivered = scrapedGauge(
  'assistants_consumer_redelivered_events',
  'unacknowledged messages delivered more than once (JetStream num_redelivered)',
  ['consumer'],
);

/** Sets the outbox, dead letter and consumer gauges of one service. Throws the first
 * failure once everything that could be read is set. */
export async function collectEventMetrics(service: string, db: Queryable, consumers: Consumer[]): Promise<void> {
  const results = await Promise.allSettled([
    (async () => {
      const [status, letters] = await Promise.all([outboxStatus(db), deadLetterCount(db)]);
      outboxPending.set({ service }, status.pending);
      outboxOldest.set({ service }, status.oldestPendingSeconds);
      outboxUnpublishable.set({ service }, status.unpublishable);
      // Every consumer shows, 0 included, so that an alert on > 0 has a series to watch.
      for (const consumer of new Set([...consumers.map((c) => c.durable), ...Object.keys(letters)])) {
        deadLetters.set({ service, consumer }, letters[consumer] ?? 0);
      }
    })(),
    ...consumers.map(async (c) => {
      const lag = await c.lag();
      consumerPending.set({ consumer: c.durable }, lag.pending);
      consumerAckPending.set({ consumer: c.durable }, lag.ackPending);
      consumerRedelivered.set({ consumer: c.durable }, lag.redelivered);
    }),
  ]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
