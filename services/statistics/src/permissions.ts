import type { PermissionDeclaration } from '@assistants/kit';

/** The statistics service's permissions, declared to identity when it starts. Both are
 * scoped: checked per user (on the user's organisation) through identity's GetUsersForAction. */
export const PERMISSIONS = {
  read: 'statistics:read',
  write: 'statistics:write',
} as const;

export const STATISTICS_PERMISSIONS: PermissionDeclaration[] = [
  {
    name: PERMISSIONS.read,
    description: "see learners' progress on lessons, courses and curricula, and competency scores",
    rootOnly: false,
  },
  {
    name: PERMISSIONS.write,
    description: "reset learners' progress, set lesson progress and competency scores, merge a user's progress into another's",
    rootOnly: false,
  },
];
