-- Assistant runs: a selection frozen into items, cut into batches that any gateway replica
-- claims (FOR UPDATE SKIP LOCKED + lease), and the per-item results the services answered.

CREATE TABLE runs (
  id uuid PRIMARY KEY,
  assistant text NOT NULL CHECK (assistant IN ('users', 'courses', 'curricula')),
  action text NOT NULL,
  -- As validated, defaults filled in: a resumed run sends the same values.
  params jsonb NOT NULL,
  -- As the caller gave it (what was asked); the frozen items are what is acted on.
  selection jsonb NOT NULL,
  actor_id uuid NOT NULL,
  actor_login text NOT NULL,
  correlation_id text NOT NULL,
  dry_run boolean NOT NULL,
  -- Per-item failures, and batches a service refused as a whole, never stop a run: it
  -- completes, or is cancelled.
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'cancelling', 'cancelled', 'completed')),
  total integer NOT NULL,
  batch_size integer NOT NULL,
  -- Items answered for, and results (one per item and target) by outcome.
  done integer NOT NULL DEFAULT 0,
  succeeded integer NOT NULL DEFAULT 0,
  unchanged integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  not_done integer NOT NULL DEFAULT 0,
  -- Set when a batch met an unavailable service: no batch of the run is sent before then,
  -- rather than each of them failing in turn.
  paused_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
CREATE INDEX runs_by_actor ON runs (actor_id, created_at DESC, id DESC);

-- No foreign key on items and results: they are written by the ten thousand per batch, always
-- for a run that exists, and a key check per row would only slow that down.
CREATE TABLE run_items (
  run_id uuid NOT NULL,
  -- 1..total, in the order the selection was resolved.
  seq integer NOT NULL,
  item_id uuid NOT NULL,
  -- What a person recognises the item by (a login, a course's unique id), for the results.
  label text NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_batches (
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- 1..n; the idempotency key of its call is "run:<run id>:<batch_no>".
  batch_no integer NOT NULL,
  first_seq integer NOT NULL,
  last_seq integer NOT NULL,
  -- skipped: never sent (the run was cancelled first).
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  -- Back-off: a batch that met an unavailable service waits until then.
  not_before timestamptz NOT NULL DEFAULT now(),
  -- The process working on it (and, once done, the one that stored its results).
  lease_owner text,
  lease_until timestamptz,
  last_error text NOT NULL DEFAULT '',
  finished_at timestamptz,
  PRIMARY KEY (run_id, batch_no)
);

CREATE INDEX run_batches_to_do ON run_batches (run_id, batch_no) WHERE status IN ('pending', 'running');

CREATE TABLE run_results (
  run_id uuid NOT NULL,
  seq integer NOT NULL,
  -- The result's rank among those of its item (one per target).
  n integer NOT NULL,
  target_id text NOT NULL DEFAULT '',
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'unchanged', 'failed', 'not_done')),
  code text NOT NULL DEFAULT '',
  message text NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq, n)
);

CREATE INDEX run_results_by_outcome ON run_results (run_id, outcome, seq, n);
