-- The ordering key of each event (outbox.ts): events of one key are published one at a
-- time, in seq order. Existing events get the default key, their subject's aggregate part.
ALTER TABLE kit_outbox ADD COLUMN key text;
UPDATE kit_outbox SET key = split_part(subject, '.', 1) || '.' || split_part(subject, '.', 2);
ALTER TABLE kit_outbox ALTER COLUMN key SET NOT NULL;

-- The relay lease: one replica at a time publishes. Taken and renewed by one short UPDATE
-- (holder = me OR expired); given up on a clean stop.
CREATE TABLE kit_outbox_relay (
  id int PRIMARY KEY CHECK (id = 1),
  holder text,
  expires_at timestamptz NOT NULL
);
INSERT INTO kit_outbox_relay (id, holder, expires_at) VALUES (1, NULL, '-infinity');

-- Events that can never be published (larger than the server's max_payload, subject owned
-- by no stream), moved aside by the relay so they do not block the events behind them.
-- Operators list them and move them back (outbox.ts: listUnpublishable, retryUnpublishable).
CREATE TABLE kit_outbox_unpublishable (
  seq bigint PRIMARY KEY,
  subject text NOT NULL,
  key text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  reason text NOT NULL,
  moved_at timestamptz NOT NULL DEFAULT now()
);
