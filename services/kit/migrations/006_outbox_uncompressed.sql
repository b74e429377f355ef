-- A batch of events is a row of up to 256 KiB: PostgreSQL compressed it (pglz) when it was
-- stored and decompressed it when the relay read it back, moments later, before deleting it.
-- The outbox holds events for seconds: kept uncompressed (still out of line).
ALTER TABLE kit_outbox ALTER COLUMN envelope SET STORAGE EXTERNAL;
