-- The CSV export (X1): what it needs of identity and of the catalogue beyond 001's
-- projections, kept from their events, so that one query over this schema streams the rows
-- (see the README, "The CSV export"). Then the export jobs and their files.

-- Projection of identity.organisation.*: `path` is the ids from the root down to the
-- organisation itself, so that "this organisation and its sub-tree" is `$1 = ANY(path)`.
CREATE TABLE organisations (
  id uuid PRIMARY KEY,
  ext_id text NOT NULL,
  label text NOT NULL,
  parent_id uuid,
  path uuid[] NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  version timestamptz NOT NULL
);
CREATE INDEX organisations_path_idx ON organisations USING gin (path);

-- Projection of identity.user.*: the user columns of X1.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  login text NOT NULL,
  ext_id text NOT NULL,
  last_name text NOT NULL,
  first_name text NOT NULL,
  email text NOT NULL,
  language text NOT NULL,
  activation_date text NOT NULL,
  expiration_date text NOT NULL,
  disabled boolean NOT NULL,
  organisation_id uuid,
  manager_id uuid,
  secondary_manager_id uuid,
  city text NOT NULL,
  country text NOT NULL,
  -- custom1..custom10.
  custom text[] NOT NULL,
  last_login_at text NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  version timestamptz NOT NULL
);
CREATE INDEX users_organisation_idx ON users (organisation_id);

CREATE TABLE audiences (
  id uuid PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE user_audiences (
  user_id uuid NOT NULL,
  audience_id uuid NOT NULL,
  PRIMARY KEY (user_id, audience_id)
);
CREATE INDEX user_audiences_audience_idx ON user_audiences (audience_id);

-- What 001's catalogue projection lacked for the export.
ALTER TABLE courses
  ADD COLUMN disabled boolean NOT NULL DEFAULT false,
  ADD COLUMN folder_id uuid,
  ADD COLUMN category_id uuid,
  ADD COLUMN custom text[] NOT NULL DEFAULT '{}';
ALTER TABLE curricula
  ADD COLUMN disabled boolean NOT NULL DEFAULT false,
  ADD COLUMN folder_id uuid,
  ADD COLUMN custom text[] NOT NULL DEFAULT '{}';

-- Projection of catalog.folder.* (course and curriculum folders; `path` as for
-- organisations) and catalog.category.*.
CREATE TABLE folders (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  name text NOT NULL,
  parent_id uuid,
  path uuid[] NOT NULL,
  deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX folders_path_idx ON folders USING gin (path);

CREATE TABLE categories (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  deleted boolean NOT NULL DEFAULT false
);

-- Export jobs. `scope` is the author's statistics:read organisations when it started (null:
-- everywhere); `request` the filters, columns, separator and BOM. A job whose heartbeat is
-- older than the lease (its process died) is started over by any replica.
CREATE TABLE exports (
  id uuid PRIMARY KEY,
  actor_id text NOT NULL,
  scope uuid[],
  request jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  rows_written bigint NOT NULL DEFAULT 0,
  bytes_written bigint NOT NULL DEFAULT 0,
  chunk_count integer NOT NULL DEFAULT 0,
  error text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX exports_pending_idx ON exports (created_at) WHERE status IN ('queued', 'running');

-- The file, in chunks of about 1 MiB: any replica serves it, and a job started over
-- replaces them.
CREATE TABLE export_chunks (
  export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (export_id, seq)
);
