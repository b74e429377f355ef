-- Identity: organisations, users, audiences, roles and grants, lists, sessions.
-- Text fields are NOT NULL with '' for "none", except ext_id (NULL, so that it can be unique
-- when present). Logins, external ids and names that must be unique are unique whatever
-- their case.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE organisations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ext_id text NOT NULL,
  label text NOT NULL,
  parent_id uuid REFERENCES organisations (id),
  -- '/<root id>/.../<own id>/': the sub-tree of o is every organisation whose path starts
  -- with o.path.
  path text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  description text NOT NULL DEFAULT '',
  language text NOT NULL DEFAULT '',
  address_line1 text NOT NULL DEFAULT '',
  address_line2 text NOT NULL DEFAULT '',
  zip text NOT NULL DEFAULT '',
  city text NOT NULL DEFAULT '',
  country text NOT NULL DEFAULT '',
  code text NOT NULL DEFAULT '',
  budget numeric(16, 2),
  supervisor_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organisations_ext_id_key ON organisations (lower(ext_id));
CREATE UNIQUE INDEX organisations_path_key ON organisations (path text_pattern_ops);
CREATE INDEX organisations_parent_idx ON organisations (parent_id);

-- The root of the tree. Organisations imported without a parent go under it.
INSERT INTO organisations (id, ext_id, label, path)
VALUES ('00000000-0000-4000-8000-000000000001', 'ROOT', 'Root', '/00000000-0000-4000-8000-000000000001/');

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  login text NOT NULL,
  ext_id text,
  last_name text NOT NULL,
  first_name text NOT NULL,
  title text NOT NULL DEFAULT '' CHECK (title IN ('', 'M.', 'Mme', 'Mlle', 'Dr.', 'Pr.')),
  email text NOT NULL DEFAULT '',
  language text NOT NULL DEFAULT '',
  birth_date date,
  activation_date date,
  expiration_date date,
  disabled boolean NOT NULL DEFAULT false,
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  manager_id uuid REFERENCES users (id) ON DELETE SET NULL,
  secondary_manager_id uuid REFERENCES users (id) ON DELETE SET NULL,
  address_line1 text NOT NULL DEFAULT '',
  address_line2 text NOT NULL DEFAULT '',
  zip text NOT NULL DEFAULT '',
  city text NOT NULL DEFAULT '',
  country text NOT NULL DEFAULT '',
  phone text NOT NULL DEFAULT '',
  cellphone text NOT NULL DEFAULT '',
  hourly_cost numeric(12, 2),
  custom1 text NOT NULL DEFAULT '',
  custom2 text NOT NULL DEFAULT '',
  custom3 text NOT NULL DEFAULT '',
  custom4 text NOT NULL DEFAULT '',
  custom5 text NOT NULL DEFAULT '',
  custom6 text NOT NULL DEFAULT '',
  custom7 text NOT NULL DEFAULT '',
  custom8 text NOT NULL DEFAULT '',
  custom9 text NOT NULL DEFAULT '',
  custom10 text NOT NULL DEFAULT '',
  job_position text NOT NULL DEFAULT '',
  two_factor text NOT NULL DEFAULT 'default' CHECK (two_factor IN ('default', 'never', 'first_login_of_day', 'always')),
  externally_managed boolean NOT NULL DEFAULT false,
  password_hash text,
  must_change_password boolean NOT NULL DEFAULT false,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_key ON users (lower(login));
CREATE UNIQUE INDEX users_ext_id_key ON users (lower(ext_id)) WHERE ext_id IS NOT NULL;
CREATE INDEX users_organisation_idx ON users (organisation_id);
CREATE INDEX users_manager_idx ON users (manager_id) WHERE manager_id IS NOT NULL;
CREATE INDEX users_secondary_manager_idx ON users (secondary_manager_id) WHERE secondary_manager_id IS NOT NULL;
-- Result pages are sorted by name.
CREATE INDEX users_name_idx ON users (last_name, first_name, id);
-- SEL-1 "contains" filters, case-insensitive (ILIKE '%text%').
CREATE INDEX users_last_name_trgm ON users USING gin (last_name gin_trgm_ops);
CREATE INDEX users_first_name_trgm ON users USING gin (first_name gin_trgm_ops);
CREATE INDEX users_login_trgm ON users USING gin (login gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_ext_id_trgm ON users USING gin (ext_id gin_trgm_ops);
CREATE INDEX users_custom_trgm ON users USING gin (
  custom1 gin_trgm_ops, custom2 gin_trgm_ops, custom3 gin_trgm_ops, custom4 gin_trgm_ops, custom5 gin_trgm_ops,
  custom6 gin_trgm_ops, custom7 gin_trgm_ops, custom8 gin_trgm_ops, custom9 gin_trgm_ops, custom10 gin_trgm_ops);

ALTER TABLE organisations ADD FOREIGN KEY (supervisor_id) REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE audiences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX audiences_name_key ON audiences (lower(name));

CREATE TABLE user_audiences (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  audience_id uuid NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, audience_id)
);
CREATE INDEX user_audiences_audience_idx ON user_audiences (audience_id, user_id);

CREATE TABLE roles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  permissions text[] NOT NULL DEFAULT '{}',
  built_in boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_name_key ON roles (lower(name));

INSERT INTO roles (id, name, description, permissions, built_in)
VALUES ('00000000-0000-4000-8000-000000000002', 'Administrator', 'Every permission, on the sub-tree of the grant', '{*}', true);

CREATE TABLE role_grants (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role_id, organisation_id)
);
CREATE INDEX role_grants_role_idx ON role_grants (role_id);
CREATE INDEX role_grants_organisation_idx ON role_grants (organisation_id);

CREATE TABLE list_folders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  parent_id uuid REFERENCES list_folders (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX list_folders_name_key ON list_folders (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

INSERT INTO list_folders (id, name) VALUES ('00000000-0000-4000-8000-000000000003', 'Default');

CREATE TABLE lists (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  type text NOT NULL CHECK (type IN ('static', 'dynamic')),
  disabled boolean NOT NULL DEFAULT false,
  folder_id uuid NOT NULL REFERENCES list_folders (id),
  -- Dynamic lists: the saved user filter (UserFilter, JSON).
  criteria jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'dynamic') = (criteria IS NOT NULL))
);
CREATE UNIQUE INDEX lists_name_key ON lists (lower(name));
CREATE INDEX lists_name_trgm ON lists USING gin (name gin_trgm_ops);

-- Members of static lists, and the current members of dynamic lists, kept up to date on
-- every change that can make a dynamic list's criteria start or stop matching a user.
-- entered_at is the day a user entered the list (C5/P4 relative dates start there).
CREATE TABLE list_members (
  list_id uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  entered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, user_id)
);
CREATE INDEX list_members_user_idx ON list_members (user_id);

CREATE TABLE sessions (
  -- SHA-256 of the bearer token: a stolen database does not give working tokens.
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
