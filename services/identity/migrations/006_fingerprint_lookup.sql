-- FindUnchangedUsers looks each row up by its kept fingerprint alone: one probe of this index
-- a row, where it went from the row's login or external id to the user, then to the user's
-- fingerprint (a join the planner ran as a scan of every fingerprint for chunks of 1,000).
-- A kept fingerprint names its user: it covers the whole row, key included, and any change
-- to the user (its key too) forgets it (migration 005).
CREATE INDEX user_import_fingerprints_fingerprint_idx ON user_import_fingerprints (fingerprint) WHERE fingerprint IS NOT NULL;
