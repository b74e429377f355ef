-- Transactional outbox: events are written in the same transaction as the change they
-- describe, then published to JetStream by the relay (outbox.ts) and deleted.
CREATE TABLE kit_outbox (
  seq bigserial PRIMARY KEY,
  subject text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Inbox: the events each consumer has already applied, so a redelivery is acknowledged
-- without doing the work twice (events.ts, claimEvent).
CREATE TABLE kit_inbox (
  consumer text NOT NULL,
  event_id text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
