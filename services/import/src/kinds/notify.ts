import { TemplateContext } from '@assistants/proto/gen/notification/v1/templates';
import type { KindOptions } from '../options';
import type { Upstreams } from '../upstreams';

/** The mail context of each kind whose rows may notify the learners (the assistants' notify). */
const NOTIFY_CONTEXTS: Record<string, TemplateContext> = {
  'course-assignments': TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
  'curriculum-assignments': TemplateContext.TEMPLATE_CONTEXT_CURRICULUM_ASSIGNMENT,
};

/** Before a job is queued: its notify template exists and suits the kind's mails, as the
 * gateway checks a run's before anything is applied (a field the mails cannot resolve is
 * refused, naming options.notifyTemplateId). */
export async function checkNotifyTemplate(upstreams: Upstreams, kind: string, options: KindOptions): Promise<void> {
  const context = NOTIFY_CONTEXTS[kind];
  const templateId = options.notifyTemplateId;
  if (!context || typeof templateId !== 'string' || templateId === '') return;
  await upstreams.notification.templates.validateTemplateUse({ templateId, context, field: 'options.notifyTemplateId' });
}
