-- Bell notifications (U17) and calendar events (U19), stored per user. Users live in
-- identity: their ids are kept here without foreign keys.

CREATE TABLE bell_notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Orders the notifications of one batch (one transaction, one now()).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  user_id uuid NOT NULL,
  text text NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
  sent_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
-- A user's list, newest first.
CREATE INDEX bell_notifications_user_idx ON bell_notifications (user_id, seq DESC);
-- The unread count.
CREATE INDEX bell_notifications_unread_idx ON bell_notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE calendar_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
-- A user's agenda, by start.
CREATE INDEX calendar_events_user_idx ON calendar_events (user_id, starts_at);

-- One iCalendar feed per user. Only the SHA-256 of its token is kept: the database alone
-- does not give a feed's address away.
CREATE TABLE calendar_feeds (
  user_id uuid PRIMARY KEY,
  token_sha256 bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
