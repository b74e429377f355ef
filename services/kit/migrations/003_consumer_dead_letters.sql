-- Events a consumer's handler failed on maxDeliveries times (consumer.ts): no longer
-- delivered; operators list, replay or discard them (dead-letters.ts).
CREATE TABLE kit_dead_letters (
  id bigserial PRIMARY KEY,
  consumer text NOT NULL,
  stream text NOT NULL,
  stream_seq bigint NOT NULL,
  subject text NOT NULL,
  event_id text NOT NULL,
  envelope jsonb NOT NULL,
  error text NOT NULL,
  deliveries int NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (consumer, event_id)
);

-- The inbox is pruned per consumer after its de-duplication horizon.
CREATE INDEX kit_inbox_consumer_processed_at ON kit_inbox (consumer, processed_at);
