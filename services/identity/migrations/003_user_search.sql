-- SEL-1 user search: a narrow projection of users, one row per user, for the search and its
-- exact count (see BENCHMARKS.md).
--
-- A count has to visit every user a filter matches: the trigram index only gives candidates.
-- The projection holds only what a search reads, so those visits read fewer pages, and its
-- text is folded once, when it is written, so the count needs no case folding: "contains,
-- case-insensitive" is lower(column) LIKE lower(pattern), which is what ILIKE does.
--
-- It is kept by statement triggers on users, in the transaction and the statement that
-- change the user row: a search sees exactly the users the same transaction would. User ids
-- never change.

-- No user is written between the copy below and the triggers that take over from it (users
-- stay readable; writes wait for this migration: about 40 s for a million users).
LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE user_search (
  id uuid PRIMARY KEY,
  organisation_id uuid NOT NULL,
  disabled boolean NOT NULL,
  -- The sort key of results, as in users.
  last_name text NOT NULL,
  first_name text NOT NULL,
  -- lower() of the users columns of the same name, without the prefix.
  lower_last_name text NOT NULL,
  lower_first_name text NOT NULL,
  lower_login text NOT NULL,
  lower_email text NOT NULL,
  lower_ext_id text,
  lower_custom1 text NOT NULL,
  lower_custom2 text NOT NULL,
  lower_custom3 text NOT NULL,
  lower_custom4 text NOT NULL,
  lower_custom5 text NOT NULL,
  lower_custom6 text NOT NULL,
  lower_custom7 text NOT NULL,
  lower_custom8 text NOT NULL,
  lower_custom9 text NOT NULL,
  lower_custom10 text NOT NULL
);

-- The projection row of a user: the one definition the triggers and bulk loads use.
CREATE FUNCTION user_search_rows(u users) RETURNS SETOF user_search LANGUAGE sql IMMUTABLE AS $$
  SELECT u.id, u.organisation_id, u.disabled, u.last_name, u.first_name,
         lower(u.last_name), lower(u.first_name), lower(u.login), lower(u.email), lower(u.ext_id),
         lower(u.custom1), lower(u.custom2), lower(u.custom3), lower(u.custom4), lower(u.custom5),
         lower(u.custom6), lower(u.custom7), lower(u.custom8), lower(u.custom9), lower(u.custom10)
$$;

INSERT INTO user_search SELECT s.* FROM users u, user_search_rows(u) s;

-- Result pages are sorted by name (and keyset paging starts after a name).
CREATE INDEX user_search_name_idx ON user_search (last_name, first_name, id);
CREATE INDEX user_search_organisation_idx ON user_search (organisation_id);
-- "contains" criteria: LIKE '%text%' on the folded columns.
CREATE INDEX user_search_last_name_trgm ON user_search USING gin (lower_last_name gin_trgm_ops);
CREATE INDEX user_search_first_name_trgm ON user_search USING gin (lower_first_name gin_trgm_ops);
CREATE INDEX user_search_login_trgm ON user_search USING gin (lower_login gin_trgm_ops);
CREATE INDEX user_search_email_trgm ON user_search USING gin (lower_email gin_trgm_ops);
CREATE INDEX user_search_ext_id_trgm ON user_search USING gin (lower_ext_id gin_trgm_ops);
CREATE INDEX user_search_custom_trgm ON user_search USING gin (
  lower_custom1 gin_trgm_ops, lower_custom2 gin_trgm_ops, lower_custom3 gin_trgm_ops, lower_custom4 gin_trgm_ops,
  lower_custom5 gin_trgm_ops, lower_custom6 gin_trgm_ops, lower_custom7 gin_trgm_ops, lower_custom8 gin_trgm_ops,
  lower_custom9 gin_trgm_ops, lower_custom10 gin_trgm_ops);
ANALYZE user_search;

-- Searches no longer read these indexes of users: every filter goes through user_search.
DROP INDEX IF EXISTS users_name_idx;
DROP INDEX IF EXISTS users_last_name_trgm;
DROP INDEX IF EXISTS users_first_name_trgm;
DROP INDEX IF EXISTS users_login_trgm;
DROP INDEX IF EXISTS users_email_trgm;
DROP INDEX IF EXISTS users_ext_id_trgm;
DROP INDEX IF EXISTS users_custom_trgm;

-- One statement per users statement, whatever its number of rows (imports write thousands
-- at a time).
CREATE FUNCTION user_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_search SELECT s.* FROM new_users n, user_search_rows(n) s;
  RETURN NULL;
END
$$;

CREATE FUNCTION user_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most updates (last login, updated_at, password) change nothing the search reads.
  UPDATE user_search t
  SET (organisation_id, disabled, last_name, first_name, lower_last_name, lower_first_name, lower_login, lower_email,
       lower_ext_id, lower_custom1, lower_custom2, lower_custom3, lower_custom4, lower_custom5, lower_custom6,
       lower_custom7, lower_custom8, lower_custom9, lower_custom10)
    = (s.organisation_id, s.disabled, s.last_name, s.first_name, s.lower_last_name, s.lower_first_name, s.lower_login,
       s.lower_email, s.lower_ext_id, s.lower_custom1, s.lower_custom2, s.lower_custom3, s.lower_custom4,
       s.lower_custom5, s.lower_custom6, s.lower_custom7, s.lower_custom8, s.lower_custom9, s.lower_custom10)
  FROM new_users n, user_search_rows(n) s
  WHERE t.id = s.id AND t IS DISTINCT FROM s;
  RETURN NULL;
END
$$;

CREATE FUNCTION user_search_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM user_search t USING old_users o WHERE t.id = o.id;
  RETURN NULL;
END
$$;

CREATE FUNCTION user_search_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE user_search;
  RETURN NULL;
END
$$;

CREATE TRIGGER user_search_inserted AFTER INSERT ON users
  REFERENCING NEW TABLE AS new_users FOR EACH STATEMENT EXECUTE FUNCTION user_search_inserted();
CREATE TRIGGER user_search_updated AFTER UPDATE ON users
  REFERENCING NEW TABLE AS new_users FOR EACH STATEMENT EXECUTE FUNCTION user_search_updated();
CREATE TRIGGER user_search_deleted AFTER DELETE ON users
  REFERENCING OLD TABLE AS old_users FOR EACH STATEMENT EXECUTE FUNCTION user_search_deleted();
CREATE TRIGGER user_search_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION user_search_truncated();
