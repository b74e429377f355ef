import type { PermissionDeclaration } from '@assistants/kit';

/** The permissions of bell notifications (U17) and calendar events (U19). Both are checked
 * per user, on the user's organisation, through identity's GetUsersForAction: a scoped
 * administrator reaches only the users of its sub-trees. A user's own reads need none. */
export const BELL_CALENDAR_PERMISSIONS = {
  sendNotifications: 'notifications:send',
  writeCalendarEvents: 'calendar-events:write',
} as const;

export const BELL_CALENDAR_PERMISSION_DECLARATIONS: PermissionDeclaration[] = [
  {
    name: BELL_CALENDAR_PERMISSIONS.sendNotifications,
    description: 'send bell notifications (short plain text) to users',
    rootOnly: false,
  },
  {
    name: BELL_CALENDAR_PERMISSIONS.writeCalendarEvents,
    description: "add events to users' agendas",
    rootOnly: false,
  },
];
