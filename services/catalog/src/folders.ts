import {
  alreadyExists,
  checkId,
  checkText,
  type Emit,
  failedPrecondition,
  invalidArgument,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import { FolderKind, type CreateFolderRequest, type Folder, type UpdateFolderRequest } from '@assistants/proto/gen/catalog/v1/structure';
import type { Caller } from './caller';
import { events } from './events';
import { findFolderRow, kindName, toFolder, type FolderRow } from './folders.repo';

function mapUniqueViolation(err: unknown, name: string): never {
  if (uniqueViolation(err) === 'folders_sibling_name_key') throw alreadyExists(`a folder named "${name}" is already there`, 'name');
  throw err;
}

/** The parent a folder goes under: "" for the top, else a folder of the same kind. */
async function parentOf(q: Queryable, kind: string, parentId: string): Promise<FolderRow | null> {
  if (checkId('parentId', parentId, true) === '') return null;
  const parent = await findFolderRow(q, parentId, 'parentId');
  if (parent.kind !== kind) throw invalidArgument('parentId', `parentId must be a ${kind} folder`);
  return parent;
}

export async function createFolder(tx: Queryable, emit: Emit, caller: Caller, req: CreateFolderRequest): Promise<Folder> {
  caller.requireWrite();
  const kind = kindName(req.kind);
  if (!kind) throw invalidArgument('kind', 'kind must be FOLDER_KIND_COURSE or FOLDER_KIND_CURRICULUM');
  const name = checkText('name', req.name, { required: true, max: 255 });
  const parent = await parentOf(tx, kind, req.parentId);
  try {
    const { rows } = await tx.query<FolderRow>(
      `INSERT INTO folders (id, kind, name, parent_id, path)
       SELECT id, $1, $2, $3::uuid, coalesce($4, '/') || id || '/' FROM (SELECT gen_random_uuid() AS id) n RETURNING *`,
      [kind, name, parent?.id ?? null, parent?.path ?? null],
    );
    const folder = toFolder(rows[0]);
    events.folder(emit, 'created', folder);
    return folder;
  } catch (err) {
    mapUniqueViolation(err, name);
  }
}

/** Renames or moves a folder; a move carries its sub-tree (each sub-folder is updated). */
export async function updateFolder(tx: Queryable, emit: Emit, caller: Caller, req: UpdateFolderRequest): Promise<Folder> {
  caller.requireWrite();
  const current = await findFolderRow(tx, req.id, 'id', true);
  const name = req.name === undefined ? current.name : checkText('name', req.name, { required: true, max: 255 });
  let path = current.path;
  let parentId = current.parent_id;
  if (req.parentId !== undefined) {
    const parent = await parentOf(tx, current.kind, req.parentId);
    if (parent && parent.path.startsWith(current.path)) {
      throw invalidArgument('parentId', 'a folder cannot move under itself or one of its sub-folders');
    }
    parentId = parent?.id ?? null;
    path = `${parent?.path ?? '/'}${current.id}/`;
  }
  if (name === current.name && parentId === current.parent_id) return toFolder(current);
  let rows: FolderRow[];
  try {
    ({ rows } = await tx.query<FolderRow>('UPDATE folders SET name = $2, parent_id = $3, updated_at = now() WHERE id = $1 RETURNING *', [
      current.id,
      name,
      parentId,
    ]));
    if (path !== current.path) {
      // The sub-tree moves with it: every path under the old one now starts with the new one.
      ({ rows } = await tx.query<FolderRow>(
        `UPDATE folders SET path = $2 || substr(path, length($1) + 1), updated_at = now() WHERE path LIKE $1 || '%' RETURNING *`,
        [current.path, path],
      ));
    }
  } catch (err) {
    mapUniqueViolation(err, name);
  }
  const folders = rows.map(toFolder).sort((a, b) => a.depth - b.depth);
  for (const folder of folders) events.folder(emit, 'updated', folder);
  return folders.find((f) => f.id === current.id)!;
}

/** Deletes an empty folder: no sub-folder, course or curriculum in it. */
export async function deleteFolder(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const folder = await findFolderRow(tx, id, 'id', true);
  const { rows } = await tx.query<{ what: string }>(
    `SELECT 'sub-folders' AS what WHERE EXISTS (SELECT 1 FROM folders WHERE parent_id = $1)
     UNION ALL SELECT 'courses' WHERE EXISTS (SELECT 1 FROM courses WHERE folder_id = $1)
     UNION ALL SELECT 'curricula' WHERE EXISTS (SELECT 1 FROM curricula WHERE folder_id = $1)`,
    [folder.id],
  );
  if (rows.length > 0) throw failedPrecondition(`the folder holds ${rows.map((r) => r.what).join(' and ')}: empty it first`, 'id');
  await tx.query('DELETE FROM folders WHERE id = $1', [folder.id]);
  events.folder(emit, 'deleted', toFolder(folder));
}

/** The folders of one kind (or both), each after its parent, siblings by name. */
export async function listFolders(q: Queryable, caller: Caller, kind: FolderKind): Promise<Folder[]> {
  caller.requireRead();
  const name = kind === FolderKind.FOLDER_KIND_UNSPECIFIED ? null : kindName(kind);
  if (name === undefined) throw invalidArgument('kind', 'kind must be FOLDER_KIND_COURSE, FOLDER_KIND_CURRICULUM or unspecified');
  const { rows } = await q.query<FolderRow & { sort_key: string }>(
    `WITH RECURSIVE tree AS (
       SELECT f.*, lower(f.name) || chr(1) || f.id AS sort_key FROM folders f WHERE f.parent_id IS NULL AND ($1::text IS NULL OR f.kind = $1)
       UNION ALL
       SELECT c.*, t.sort_key || chr(2) || lower(c.name) || chr(1) || c.id FROM folders c JOIN tree t ON c.parent_id = t.id
     )
     SELECT * FROM tree ORDER BY kind, sort_key COLLATE "C"`,
    [name],
  );
  return rows.map(toFolder);
}
