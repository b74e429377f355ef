-- Authorisation decided inside identity: lists belong to an organisation, permissions are
-- declared by the services that check them, failed logins are counted per login.

-- A list belongs to an organisation: only callers whose scope holds it see and change the
-- list, and its members are users of that organisation's sub-tree. Lists made before this
-- belonged to everyone: they go to the root.
ALTER TABLE lists ADD COLUMN owner_organisation_id uuid NOT NULL
  DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES organisations (id);
ALTER TABLE lists ALTER COLUMN owner_organisation_id DROP DEFAULT;
CREATE INDEX lists_owner_idx ON lists (owner_organisation_id);

-- Every permission a role may carry: identity's own and those other services register
-- when they start. Roles are checked against this table.
CREATE TABLE permissions (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$'),
  description text NOT NULL,
  service text NOT NULL,
  root_only boolean NOT NULL DEFAULT false,
  registered_at timestamptz NOT NULL DEFAULT now()
);

-- Failed logins per login (lower case), counted in a window: past the limit, the login is
-- refused without checking the password until the window ends. Shared by every replica.
CREATE TABLE login_failures (
  login_key text PRIMARY KEY,
  failures integer NOT NULL,
  window_started_at timestamptz NOT NULL
);
