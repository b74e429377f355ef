import type { Queryable } from '@assistants/kit';

/*
 * What the export needs of identity (users, organisations, audiences) and of the catalogue's
 * folders and categories, kept from their events. Written only by the consumers
 * (projections.ts), read by the export query (query.ts).
 */

export interface UserCopy {
  id: string;
  login: string;
  extId: string;
  lastName: string;
  firstName: string;
  email: string;
  language: string;
  activationDate: string;
  expirationDate: string;
  disabled: boolean;
  organisationId: string | null;
  managerId: string | null;
  secondaryManagerId: string | null;
  city: string;
  country: string;
  custom: string[];
  lastLoginAt: string;
  audiences: { id: string; name: string }[];
  /** identity's updated_at: an older copy never overwrites a newer one. */
  version: string;
}

/** Users created or changed, in one statement (and one for their audiences): an import of
 * 50,000 users is 50,000 events. The last copy of a user in `rows` wins. */
export async function upsertUsers(tx: Queryable, rows: UserCopy[]): Promise<void> {
  if (rows.length === 0) return;
  rows = [...new Map(rows.map((r) => [r.id, r])).values()];
  const col = (f: (r: UserCopy) => unknown) => rows.map(f);
  const { rows: applied } = await tx.query<{ id: string }>(
    `INSERT INTO users AS u (id, login, ext_id, last_name, first_name, email, language, activation_date, expiration_date, disabled,
                             organisation_id, manager_id, secondary_manager_id, city, country, custom, last_login_at, version)
     SELECT r.id, r.login, r.ext_id, r.last_name, r.first_name, r.email, r.language, r.activation_date, r.expiration_date, r.disabled,
            r.organisation_id, r.manager_id, r.secondary_manager_id, r.city, r.country,
            (SELECT array_agg(x) FROM json_array_elements_text(r.custom) x), r.last_login_at, r.version
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::boolean[], $11::uuid[], $12::uuid[], $13::uuid[], $14::text[], $15::text[], $16::json[], $17::text[],
                   $18::timestamptz[])
         AS r(id, login, ext_id, last_name, first_name, email, language, activation_date, expiration_date, disabled,
              organisation_id, manager_id, secondary_manager_id, city, country, custom, last_login_at, version)
     ON CONFLICT (id) DO UPDATE SET login = EXCLUDED.login, ext_id = EXCLUDED.ext_id, last_name = EXCLUDED.last_name,
       first_name = EXCLUDED.first_name, email = EXCLUDED.email, language = EXCLUDED.language,
       activation_date = EXCLUDED.activation_date, expiration_date = EXCLUDED.expiration_date, disabled = EXCLUDED.disabled,
       organisation_id = EXCLUDED.organisation_id, manager_id = EXCLUDED.manager_id,
       secondary_manager_id = EXCLUDED.secondary_manager_id, city = EXCLUDED.city, country = EXCLUDED.country,
       custom = EXCLUDED.custom, last_login_at = EXCLUDED.last_login_at, version = EXCLUDED.version
     WHERE u.version <= EXCLUDED.version AND NOT u.deleted
     RETURNING u.id`,
    [
      col((r) => r.id),
      col((r) => r.login),
      col((r) => r.extId),
      col((r) => r.lastName),
      col((r) => r.firstName),
      col((r) => r.email),
      col((r) => r.language),
      col((r) => r.activationDate),
      col((r) => r.expirationDate),
      col((r) => r.disabled),
      col((r) => r.organisationId),
      col((r) => r.managerId),
      col((r) => r.secondaryManagerId),
      col((r) => r.city),
      col((r) => r.country),
      col((r) => JSON.stringify(r.custom)),
      col((r) => r.lastLoginAt),
      col((r) => r.version),
    ],
  );
  // The audiences of the users whose copy was applied (an older copy changes nothing): the
  // ones they left deleted, the new ones added. Most copies change no audience, and then
  // nothing is written (deleting them all and adding them back rewrote every pair).
  const ids = new Set(applied.map((r) => r.id));
  const fresh = rows.filter((r) => ids.has(r.id));
  if (fresh.length === 0) return;
  const pairs = fresh.flatMap((r) => r.audiences.map((a) => ({ userId: r.id, ...a })));
  await tx.query(
    `DELETE FROM user_audiences ua WHERE ua.user_id = ANY($1::uuid[])
        AND (ua.user_id, ua.audience_id) NOT IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))`,
    [fresh.map((r) => r.id), pairs.map((p) => p.userId), pairs.map((p) => p.id)],
  );
  if (pairs.length === 0) return;
  await upsertAudiences(
    tx,
    pairs.map((p) => ({ id: p.id, name: p.name })),
  );
  await tx.query(
    `INSERT INTO user_audiences (user_id, audience_id) SELECT DISTINCT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.id)],
  );
}

export async function deleteUsers(tx: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // Kept (deleted) so that a late copy of the user does not bring it back.
  await tx.query('UPDATE users SET deleted = true WHERE id = ANY($1::uuid[])', [ids]);
  await tx.query('DELETE FROM user_audiences WHERE user_id = ANY($1::uuid[])', [ids]);
}

export async function upsertAudiences(tx: Queryable, rows: { id: string; name: string }[]): Promise<void> {
  rows = [...new Map(rows.map((r) => [r.id, r])).values()];
  await tx.query(
    `INSERT INTO audiences AS a (id, name) SELECT * FROM unnest($1::uuid[], $2::text[])
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE a.name IS DISTINCT FROM EXCLUDED.name`,
    [rows.map((r) => r.id), rows.map((r) => r.name)],
  );
}

export async function deleteAudience(tx: Queryable, id: string): Promise<void> {
  await tx.query('DELETE FROM user_audiences WHERE audience_id = $1', [id]);
  await tx.query('DELETE FROM audiences WHERE id = $1', [id]);
}

/** A tree node (organisation or folder): stored with its path from the root, and the paths
 * of the nodes under it follow when it moves. */
async function placeInTree(tx: Queryable, table: 'organisations' | 'folders', id: string, parentId: string | null): Promise<void> {
  const { rows } = await tx.query<{ old: string[] | null; fresh: string[] }>(
    `SELECT (SELECT path FROM ${table} WHERE id = $1) AS old,
            coalesce((SELECT path FROM ${table} WHERE id = $2), '{}'::uuid[]) || $1::uuid AS fresh`,
    [id, parentId],
  );
  const { old, fresh } = rows[0];
  await tx.query(`UPDATE ${table} SET path = $2, parent_id = $3 WHERE id = $1`, [id, fresh, parentId]);
  if (old && old.join() !== fresh.join()) {
    // Descendants: the moved node's new path, then their own part below it.
    await tx.query(
      `UPDATE ${table} SET path = $2::uuid[] || path[array_position(path, $1::uuid) + 1:] WHERE $1::uuid = ANY(path) AND id <> $1`,
      [id, fresh],
    );
  }
}

export interface OrganisationCopy {
  id: string;
  extId: string;
  label: string;
  parentId: string | null;
  version: string;
}

export async function upsertOrganisation(tx: Queryable, o: OrganisationCopy): Promise<void> {
  const { rowCount } = await tx.query(
    `INSERT INTO organisations AS o (id, ext_id, label, parent_id, path, version) VALUES ($1, $2, $3, $4, ARRAY[$1::uuid], $5)
     ON CONFLICT (id) DO UPDATE SET ext_id = EXCLUDED.ext_id, label = EXCLUDED.label, version = EXCLUDED.version
     WHERE o.version <= EXCLUDED.version AND NOT o.deleted`,
    [o.id, o.extId, o.label, o.parentId, o.version],
  );
  if (rowCount) await placeInTree(tx, 'organisations', o.id, o.parentId);
}

export async function deleteOrganisation(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE organisations SET deleted = true WHERE id = $1', [id]);
}

export interface FolderCopy {
  id: string;
  kind: 'course' | 'curriculum';
  name: string;
  parentId: string | null;
}

export async function upsertFolder(tx: Queryable, f: FolderCopy): Promise<void> {
  await tx.query(
    `INSERT INTO folders (id, kind, name, parent_id, path) VALUES ($1, $2, $3, $4, ARRAY[$1::uuid])
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, deleted = false`,
    [f.id, f.kind, f.name, f.parentId],
  );
  await placeInTree(tx, 'folders', f.id, f.parentId);
}

export async function deleteFolder(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE folders SET deleted = true WHERE id = $1', [id]);
}

export async function upsertCategory(tx: Queryable, c: { id: string; name: string; deleted: boolean }): Promise<void> {
  await tx.query(
    `INSERT INTO categories (id, name, deleted) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, deleted = EXCLUDED.deleted`,
    [c.id, c.name, c.deleted],
  );
}
