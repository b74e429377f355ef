import { Type } from '@sinclair/typebox';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { defineAction, type ActionDefinition } from './action';

/** The user assistant's actions that the notification service applies to each selected
 * user's own space: a bell notification (U17), a calendar event (U19). */

const resultOf = (response: { result?: BatchResult }): BatchResult => response.result ?? { results: [], replayed: false };

const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339 with an offset, e.g. 2026-03-02T09:00:00Z' });

const sendNotification = defineAction({
  id: 'U17',
  assistant: 'users',
  title: 'Send notification',
  params: Type.Object(
    { text: Type.String({ minLength: 1, maxLength: 500, description: 'plain text (no HTML), shown under the bell' }) },
    { additionalProperties: false },
  ),
  apply: async ({ notification }, userIds, { text }, batch) =>
    resultOf(await notification.bell.sendNotifications({ batch, userIds, text })),
});

const addCalendarEvent = defineAction({
  id: 'U19',
  assistant: 'users',
  title: 'Add calendar event',
  params: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200 }),
      description: Type.Optional(Type.String({ maxLength: 2000 })),
      start: DateTime,
      end: { ...DateTime, description: 'after start' },
    },
    { additionalProperties: false },
  ),
  apply: async ({ notification }, userIds, params, batch) =>
    resultOf(
      await notification.calendar.addCalendarEvents({
        batch,
        userIds,
        name: params.name,
        description: params.description ?? '',
        start: params.start,
        end: params.end,
      }),
    ),
});

/** U17 and U19, for the run engine's registry. */
export const bellCalendarActions: ActionDefinition[] = [sendNotification, addCalendarEvent];
