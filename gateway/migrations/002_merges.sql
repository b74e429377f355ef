-- User merges (M1): a saga over the services, persisted so that any gateway replica carries
-- it on after a restart or a kill (claimed with FOR UPDATE SKIP LOCKED and a lease, as run
-- batches are). Its steps run in order, each one call with the idempotency key
-- "merge:<id>:<step name>"; the user to delete is deleted by the last one only.

CREATE TABLE merges (
  id uuid PRIMARY KEY,
  -- Z: the user whose data moves and who is deleted; A: the user who keeps it.
  delete_user_id uuid NOT NULL,
  keep_user_id uuid NOT NULL,
  actor_id uuid NOT NULL,
  actor_login text NOT NULL,
  correlation_id text NOT NULL,
  -- A dry run is answered when created (every step as a dry run): it is never claimed.
  dry_run boolean NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  -- The step to apply next (merge_steps.step_no).
  next_step integer NOT NULL DEFAULT 1,
  attempts integer NOT NULL DEFAULT 0,
  -- Back-off: a merge whose service was away waits until then.
  not_before timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  -- Why it waits (the last transient error), or why it failed.
  last_error text NOT NULL DEFAULT '',
  error_code text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  CHECK (delete_user_id <> keep_user_id)
);

CREATE INDEX merges_to_do ON merges (created_at) WHERE status IN ('pending', 'running');

CREATE TABLE merge_steps (
  merge_id uuid NOT NULL REFERENCES merges (id) ON DELETE CASCADE,
  -- 1..n, in the order they run.
  step_no integer NOT NULL,
  name text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  -- The service's per-item results (batch.v1 ItemResult as JSON).
  results jsonb NOT NULL DEFAULT '[]',
  message text NOT NULL DEFAULT '',
  finished_at timestamptz,
  PRIMARY KEY (merge_id, step_no)
);
