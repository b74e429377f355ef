-- Bulk commands applied once (batch.ts): the results of each idempotency key, written in
-- the transaction that made the change, so a repeated batch (a run or import that resumes
-- after a kill) returns them instead of applying again.
CREATE TABLE kit_batches (
  idempotency_key text PRIMARY KEY,
  -- A digest of the request: the same key with another request is refused.
  request_digest text NOT NULL,
  results jsonb,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX kit_batches_applied_at ON kit_batches (applied_at);
