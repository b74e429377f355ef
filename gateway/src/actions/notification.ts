import { asDomainError, DomainError } from '@assistants/kit';
import { Type } from '@sinclair/typebox';
import { contextValue, type MailContextName } from '../routes/mails';
import { defineAction, type ActionDefinition } from './action';

/** U16 (send a mail, user assistant): one mail per selected user, from a template (its
 * variant in each user's language), from a template edited for this run (`subject`, `html`,
 * `text` replace it), or ad hoc. The notification service checks the fields before anything
 * is queued (a 400 naming `content.html`... when a field cannot be resolved for a user) and
 * queues one mail per user per batch key. */
const sendMail = defineAction({
  id: 'U16',
  assistant: 'users',
  title: 'Send a mail',
  params: Type.Object(
    {
      templateId: Type.Optional(
        Type.String({ maxLength: 100, description: 'a mail template of context "user"; absent for an ad-hoc mail' }),
      ),
      subject: Type.Optional(
        Type.String({ maxLength: 1000, description: 'with dynamic fields, e.g. {{ user.first_name }}; replaces the template' }),
      ),
      html: Type.Optional(Type.String({ maxLength: 100_000, description: 'HTML body; every value is HTML-escaped' })),
      text: Type.Optional(Type.String({ maxLength: 100_000, description: 'plain-text body' })),
    },
    { additionalProperties: false },
  ),
  apply: async ({ notification }, userIds, p, batch) => {
    try {
      const content = p.subject || p.html || p.text ? { subject: p.subject ?? '', html: p.html ?? '', text: p.text ?? '' } : undefined;
      return (await notification.mails.sendMails({ batch, userIds, templateId: p.templateId ?? '', content })).result!;
    } catch (error) {
      // The run's parameters are flat (subject, html, text); the contract nests them in `content`.
      const refused = asDomainError(error);
      if (refused?.field?.startsWith('content.'))
        throw new DomainError(refused.code, refused.message, refused.field.slice('content.'.length));
      throw error;
    }
  },
});

export const notificationActions: ActionDefinition[] = [sendMail];

/** The context a notify template of each assignment action is rendered in. */
const NOTIFY_CONTEXTS: Record<string, MailContextName> = {
  U7: 'course_assignment',
  U8: 'course_assignment',
  U10: 'course_assignment',
  U11: 'course_assignment',
  C6: 'course_assignment',
  C7: 'course_assignment',
  U12: 'curriculum_assignment',
  U13: 'curriculum_assignment',
  U15: 'curriculum_assignment',
  // The resets' mails name the course or curriculum as the assignment mails do.
  U9: 'course_assignment',
  U14: 'curriculum_assignment',
};

/** An action with a `notifyTemplateId` whose validation (no items, dry run) also asks the
 * notification service whether the template exists and suits the action: U16's rule, a field
 * the mails cannot resolve is refused before anything is applied or sent. */
export function checkingNotifyTemplate(action: ActionDefinition): ActionDefinition {
  const context = NOTIFY_CONTEXTS[action.id];
  if (!context) return action;
  return {
    ...action,
    apply: async (upstreams, itemIds, params, batch) => {
      const templateId = (params as { notifyTemplateId?: string }).notifyTemplateId?.trim();
      if (templateId && itemIds.length === 0) {
        await upstreams.notification.templates.validateTemplateUse({
          templateId,
          context: contextValue(context),
          field: 'notifyTemplateId',
        });
      }
      return action.apply(upstreams, itemIds, params, batch);
    },
  };
}
