-- Retention (src/prune.ts): finished jobs go after IMPORT_KEEP_DAYS, with their chunks; an
-- upload goes once no job uses it, IMPORT_UPLOAD_KEEP_HOURS after it was made.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE status IN ('completed', 'failed');
-- The uploads without a job, and the check of the jobs' foreign key when an upload goes.
CREATE INDEX jobs_upload_idx ON jobs (upload_id);
CREATE INDEX uploads_created_idx ON uploads (created_at);
