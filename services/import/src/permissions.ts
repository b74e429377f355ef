import type { PermissionDeclaration } from '@assistants/kit';

/** The import service's permission, declared to identity when it starts. It lets a user
 * upload files and run imports; what each row changes is decided by the service that owns
 * it (identity: organisations:write, users:write... on the organisation of the row). */
export const PERMISSIONS = { run: 'imports:run' } as const;

export const IMPORT_PERMISSIONS: PermissionDeclaration[] = [
  {
    name: PERMISSIONS.run,
    description: 'upload files and run imports (each row is checked against your other permissions)',
    rootOnly: false,
  },
];
