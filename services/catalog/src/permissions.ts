import type { PermissionDeclaration } from '@assistants/kit';

/** The catalog is global (no organisation owns a course): reading it needs catalog:read
 * anywhere, changing it catalog:write on the root organisation. */
export const CATALOG_READ = 'catalog:read';
export const CATALOG_WRITE = 'catalog:write';

export const CATALOG_PERMISSIONS: PermissionDeclaration[] = [
  { name: CATALOG_READ, description: 'see courses, lessons, curricula, folders, categories and competencies', rootOnly: false },
  {
    name: CATALOG_WRITE,
    description:
      'create, change and delete courses, lessons, curricula, folders, categories and competencies (course and curriculum assistants C1-C4, P1-P3)',
    rootOnly: true,
  },
];
