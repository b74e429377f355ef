-- I2 re-imports (user-fingerprints.ts): a user's row of a file that was applied without
-- error or warning is remembered by its fingerprint (the row without its password, with the
-- file's header and options, bound to the importer and its grants). The same row again, for
-- a user nothing changed since, in the same epoch, is UNCHANGED without being decided again:
-- the decision depends on nothing else.
--
-- Any change to a user (its columns, audiences, role grants, list memberships, or the
-- external id of its manager) forgets its fingerprint and moves its generation, by the
-- triggers below, whatever the code path. A chunk keeps a fingerprint only when the
-- generation is still the one it read before deciding (a change committed in between, or
-- still running, wins).
CREATE TABLE user_import_fingerprints (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  generation bigint NOT NULL DEFAULT 0,
  fingerprint bytea,
  epoch bigint,
  -- the import job that kept it (that job does not find its own: FindUnchangedUsers)
  job_id text
);

CREATE FUNCTION forget_import_fingerprints(user_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO user_import_fingerprints (user_id, generation)
  SELECT DISTINCT u.id, 1 FROM unnest(user_ids) AS c(id) JOIN users u ON u.id = c.id -- (not one being deleted)
  ON CONFLICT (user_id) DO UPDATE SET generation = user_import_fingerprints.generation + 1, fingerprint = NULL
$$;

-- A user's own row; and the users it manages when its external id changes (rows name their
-- manager by it).
CREATE FUNCTION users_forget_import_fingerprints() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM forget_import_fingerprints(array(
    SELECT id FROM new_rows
    UNION
    SELECT m.id FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN users m ON m.manager_id = n.id OR m.secondary_manager_id = n.id
     WHERE o.ext_id IS DISTINCT FROM n.ext_id));
  RETURN NULL;
END
$$;
CREATE TRIGGER users_import_fingerprints AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION users_forget_import_fingerprints();

-- A user's audiences, grants and list memberships.
CREATE FUNCTION user_links_forget_import_fingerprints() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM forget_import_fingerprints(array(SELECT user_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM forget_import_fingerprints(array(SELECT user_id FROM old_rows));
  ELSE
    PERFORM forget_import_fingerprints(array(SELECT user_id FROM new_rows UNION SELECT user_id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER user_audiences_import_fingerprints_in AFTER INSERT ON user_audiences REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER user_audiences_import_fingerprints_out AFTER DELETE ON user_audiences REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER role_grants_import_fingerprints_in AFTER INSERT ON role_grants REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER role_grants_import_fingerprints_out AFTER DELETE ON role_grants REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER role_grants_import_fingerprints_change AFTER UPDATE ON role_grants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER list_members_import_fingerprints_in AFTER INSERT ON list_members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER list_members_import_fingerprints_out AFTER DELETE ON list_members REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();
CREATE TRIGGER list_members_import_fingerprints_change AFTER UPDATE ON list_members REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_links_forget_import_fingerprints();

-- What a row is decided against besides its user: organisations (external ids, the tree
-- scopes are made of), audiences, roles and static lists (by name), the roles' permissions.
-- Any change to them moves the epoch, and no fingerprint kept before is trusted again. (They
-- change seldom; a transaction that changes them holds this row until it commits, so a chunk
-- that read the epoch before deciding keeps its fingerprints under the epoch it read.)
CREATE TABLE import_epoch (n bigint NOT NULL);
INSERT INTO import_epoch VALUES (0);

CREATE FUNCTION import_epoch_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE import_epoch SET n = n + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER organisations_import_epoch AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF ext_id, path ON organisations
  FOR EACH STATEMENT EXECUTE FUNCTION import_epoch_moves();
CREATE TRIGGER audiences_import_epoch AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name ON audiences
  FOR EACH STATEMENT EXECUTE FUNCTION import_epoch_moves();
CREATE TRIGGER roles_import_epoch AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, permissions ON roles
  FOR EACH STATEMENT EXECUTE FUNCTION import_epoch_moves();
CREATE TRIGGER lists_import_epoch AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, type, disabled, owner_organisation_id ON lists
  FOR EACH STATEMENT EXECUTE FUNCTION import_epoch_moves();
