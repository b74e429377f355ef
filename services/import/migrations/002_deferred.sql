-- What a job leaves to its last pass, after its last chunk: I2's managers that were not found
-- when their rows were applied (a manager defined further down the file). Written with the
-- chunk that defers them (job_chunks), in the same transaction.
CREATE TABLE job_deferred (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  line integer NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (job_id, line)
);

-- Dry runs only (their chunks are rolled back): the values the applied rows gave (I2: the
-- external ids, lower-cased), where the last pass looks for a manager the file defines.
CREATE TABLE job_provided (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  value text NOT NULL,
  PRIMARY KEY (job_id, value)
);
