-- Import: the uploaded files, the jobs and what each chunk of a job gave. Users live in
-- identity: the creator's id is copied here without a foreign key.

-- A file is kept in the database in parts of about 1 MiB, not on a disk: every replica can
-- read it (a job resumes on another replica after a kill), it needs no shared volume, and it
-- goes with the database's backups and retention. A job reads it part by part.
CREATE TABLE uploads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL,
  file_name text NOT NULL,
  created_by text NOT NULL,
  size bigint NOT NULL DEFAULT 0,
  parts integer NOT NULL DEFAULT 0,
  completed boolean NOT NULL DEFAULT false,
  -- utf-8 or windows-1252, and the separator, as read when completed.
  encoding text,
  separator text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE upload_parts (
  upload_id uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  part integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (upload_id, part)
);

CREATE TABLE jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  upload_id uuid NOT NULL REFERENCES uploads (id),
  kind text NOT NULL,
  dry_run boolean NOT NULL,
  options jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  created_by text NOT NULL,
  -- The rejects file's first line (the file's header and a reason column, its encoding).
  rejects_header bytea,
  bytes_read bigint NOT NULL DEFAULT 0,
  file_error_line integer,
  file_error text,
  -- The replica working on it, until when (a killed replica's job is taken over after that).
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX jobs_due_idx ON jobs (created_at) WHERE status IN ('queued', 'running');

-- One row per chunk done, written in the transaction that records it: a resumed job starts
-- after the last one, and the identity batch of a chunk replays under its key
-- (import:<job>:<chunk>) if the kill came between the two. Counts are the sums of these rows.
CREATE TABLE job_chunks (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  no integer NOT NULL,
  read integer NOT NULL,
  added integer NOT NULL,
  updated integer NOT NULL,
  unchanged integer NOT NULL,
  rejected integer NOT NULL,
  warnings integer NOT NULL,
  log text NOT NULL,
  rejects bytea NOT NULL,
  PRIMARY KEY (job_id, no)
);
