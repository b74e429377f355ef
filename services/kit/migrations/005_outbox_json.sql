-- The envelope is kept as the text the service wrote (json, not jsonb) and its id in a column
-- of its own: the relay publishes that text as it is and needs only the id from it. As jsonb,
-- every event was parsed into jsonb when stored and written back out as text when published,
-- and its id taken out by a lookup in it: 5,000 events stored in about 55 % of the time,
-- read back by the relay in about 45 % (BENCHMARKS.md, bench:import e).
ALTER TABLE kit_outbox ALTER COLUMN envelope TYPE json USING envelope::json;
-- Empty for the events stored by a replica of the version before (during a rolling update):
-- the relay reads their id from the envelope.
ALTER TABLE kit_outbox ADD COLUMN event_id text;
UPDATE kit_outbox SET event_id = envelope->>'id';
-- Moved aside as they were stored (an envelope json takes may not be valid jsonb: \u0000).
ALTER TABLE kit_outbox_unpublishable ALTER COLUMN envelope TYPE json USING envelope::json;
