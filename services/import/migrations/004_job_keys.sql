-- The keys of a job's file past the first IMPORT_KEYS_IN_MEMORY (engine/keys.ts): a row whose
-- key an earlier row gave is rejected, and a file of millions of rows must not hold them all
-- in the import's memory. Emptied when the job ends.
CREATE TABLE job_keys (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  key text NOT NULL,
  line integer NOT NULL,
  PRIMARY KEY (job_id, key)
);
