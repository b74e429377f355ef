import type { PermissionDeclaration } from '@assistants/kit';

/** The notification service's permissions, declared to identity when it starts. mails:send,
 * notifications:send and calendar-events:write are checked per user (on the user's
 * organisation) through identity's GetUsersForAction. A user's own reads need none. */
export const PERMISSIONS = {
  readTemplates: 'mail-templates:read',
  writeTemplates: 'mail-templates:write',
  send: 'mails:send',
  manage: 'mails:manage',
  sendNotifications: 'notifications:send',
  writeCalendarEvents: 'calendar-events:write',
} as const;

export const NOTIFICATION_PERMISSIONS: PermissionDeclaration[] = [
  { name: PERMISSIONS.readTemplates, description: 'see and preview mail templates', rootOnly: false },
  { name: PERMISSIONS.writeTemplates, description: 'create, change and delete mail templates', rootOnly: true },
  { name: PERMISSIONS.send, description: 'send mails to users (U16)', rootOnly: false },
  { name: PERMISSIONS.manage, description: 'see the mails that failed for good and send them again', rootOnly: true },
  { name: PERMISSIONS.sendNotifications, description: 'send bell notifications (short plain text) to users', rootOnly: false },
  { name: PERMISSIONS.writeCalendarEvents, description: "add events to users' agendas", rootOnly: false },
];
