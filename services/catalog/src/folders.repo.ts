import { isId, notFound, type Queryable } from '@assistants/kit';
import { FolderKind, type Folder } from '@assistants/proto/gen/catalog/v1/structure';

export type FolderKindName = 'course' | 'curriculum';

export type FolderRow = {
  id: string;
  kind: FolderKindName;
  name: string;
  parent_id: string | null;
  path: string;
  created_at: Date;
  updated_at: Date;
};

export const FOLDER_KINDS: Record<FolderKindName, FolderKind> = {
  course: FolderKind.FOLDER_KIND_COURSE,
  curriculum: FolderKind.FOLDER_KIND_CURRICULUM,
};

export function kindName(kind: FolderKind): FolderKindName | undefined {
  return kind === FolderKind.FOLDER_KIND_COURSE ? 'course' : kind === FolderKind.FOLDER_KIND_CURRICULUM ? 'curriculum' : undefined;
}

export function toFolder(row: FolderRow): Folder {
  return {
    id: row.id,
    kind: FOLDER_KINDS[row.kind],
    name: row.name,
    parentId: row.parent_id ?? '',
    depth: row.path.split('/').filter(Boolean).length - 1,
    createdAt: row.created_at.toISOString(),
  };
}

/** A folder by id; NOT_FOUND naming `field` otherwise. */
export async function findFolderRow(q: Queryable, id: string, field = 'id', lock = false): Promise<FolderRow> {
  const rows = isId(id)
    ? (await q.query<FolderRow>(`SELECT * FROM folders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id.toLowerCase()])).rows
    : [];
  if (!rows[0]) throw notFound(`no folder with id ${JSON.stringify(id)}`, field);
  return rows[0];
}
