-- Retention (src/prune.ts): finished jobs go after IMPORT_KEEP_DAYS, with their chunks; an
-- upload goes once no job uses it, IMPORT_UPLOAD_KEEP_HOURS after it was made.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE status IN ('completed', 'failed');
-- The uploads without a job, and the check of the jobs' foreign key when an upload goes.
CREATE INDEX jobs_upload_idx ON jobs (upload_id);
CREATE INDEX uploads_created_idx ON uploads (created_at);

-- The passwords the importer made for the welcome mails of a chunk being applied, sealed
-- (src/welcome-passwords.ts): a chunk replayed after a kill sends the mails with them. They
-- are deleted with the chunk's record.
CREATE TABLE welcome_passwords (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  chunk integer NOT NULL,
  -- The row's line in the file.
  line integer NOT NULL,
  -- iv | tag | AES-256-GCM ciphertext, bound to import:<job>:<line>.
  sealed bytea NOT NULL,
  PRIMARY KEY (job_id, chunk, line)
);
