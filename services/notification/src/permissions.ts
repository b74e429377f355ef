import type { PermissionDeclaration } from '@assistants/kit';

/** The notification service's permissions, declared to identity when it starts. mails:send
 * is checked per user (on the user's organisation) through identity's GetUsersForAction. */
export const PERMISSIONS = {
  readTemplates: 'mail-templates:read',
  writeTemplates: 'mail-templates:write',
  send: 'mails:send',
  manage: 'mails:manage',
} as const;

export const NOTIFICATION_PERMISSIONS: PermissionDeclaration[] = [
  { name: PERMISSIONS.readTemplates, description: 'see and preview mail templates', rootOnly: false },
  { name: PERMISSIONS.writeTemplates, description: 'create, change and delete mail templates', rootOnly: true },
  { name: PERMISSIONS.send, description: 'send mails to users (U16)', rootOnly: false },
  { name: PERMISSIONS.manage, description: 'see the mails that failed for good and send them again', rootOnly: true },
];
