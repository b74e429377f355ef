import type { ConsumerDefinition, EventEnvelope, HandlerContext, Logger } from '@assistants/kit';
import {
  CertificateIssued,
  CourseAssignmentChanged,
  CurriculumAssignmentChanged,
  type Learner,
} from '@assistants/proto/gen/assignment/v1/events';
import type { Deps } from './deps';
import { assignmentData, partsFor, userData } from './mail-data';
import { queueMails, type NewMail } from './mails.repo';
import { checkParts, usableIn, type MailContext, type MailData } from './templates';
import { findTemplate } from './templates.repo';

export const ASSIGNMENT_MAILS_DURABLE = 'notification-assignment-mails';
/** The assignment service's stream (see proto/assignment/v1/events.proto). */
export const ASSIGNMENT_STREAM = { name: 'ASSIGNMENT', subjects: ['assignment.>'] };

interface Notice {
  context: MailContext;
  templateId: string;
  learner: Learner | undefined;
  fields: Partial<Pick<MailData, 'course' | 'curriculum'>>;
}

/** What an assignment event asks to mail, if anything (a missing JSON field is ""). */
function noticeOf(event: EventEnvelope): Notice | undefined {
  const course = /^assignment\.course\.(assigned|updated|removed)\.v1$/.test(event.subject);
  const curriculum = /^assignment\.curriculum\.(assigned|updated|removed)\.v1$/.test(event.subject);
  if (course) {
    const e = CourseAssignmentChanged.fromJSON(event.data);
    return {
      context: 'course_assignment',
      templateId: e.notifyTemplateId,
      learner: e.learner,
      fields: { course: assignmentData(e.course, e.assignment) },
    };
  }
  if (curriculum) {
    const e = CurriculumAssignmentChanged.fromJSON(event.data);
    return {
      context: 'curriculum_assignment',
      templateId: e.notifyTemplateId,
      learner: e.learner,
      fields: { curriculum: assignmentData(e.curriculum, e.assignment) },
    };
  }
  if (event.subject === 'assignment.certificate.issued.v1') {
    const e = CertificateIssued.fromJSON(event.data);
    return {
      context: 'course_assignment',
      templateId: e.notifyTemplateId,
      learner: e.learner,
      fields: { course: assignmentData(e.course, undefined) },
    };
  }
  return undefined;
}

/** The notify options of the assignment actions (U7, U8, U10-U13, U15, C6, C7, P4): one
 * mail per event that names a template, queued in the transaction that claims the event, under
 * the key (event id, learner) — a redelivered event queues nothing twice. A template deleted
 * or no longer usable since the run was validated is recorded as a failed mail, with why. */
export function assignmentMailsConsumer(deps: Deps, logger: Logger): ConsumerDefinition {
  return {
    stream: ASSIGNMENT_STREAM.name,
    durable: ASSIGNMENT_MAILS_DURABLE,
    subject: 'assignment.>',
    // A 50,000-learner run is 50,000 events: one transaction per event bounded the fan-out at
    // about 300 mails/s, groups of up to 64 reach the 500 of bench:mail (see BENCHMARKS.md).
    grouped: true,
    prefetch: 64,
    handler: async (event: EventEnvelope, { tx }: HandlerContext) => {
      const notice = noticeOf(event);
      if (!notice?.templateId || !notice.learner?.id) return;
      const learner = notice.learner;
      const template = await findTemplate(tx, notice.templateId);
      const data: MailData = { ...userData(learner, deps.config.NOTIFICATION_PLATFORM_URL), ...notice.fields };
      let failure: string | undefined;
      if (!template) failure = `mail template ${notice.templateId} does not exist (any more)`;
      else if (!usableIn(template.context, notice.context)) failure = `mail template ${template.name} is not a ${notice.context} template`;
      else if (!learner.email) failure = 'the user has no email address';
      const { language, parts } = template
        ? partsFor(template, undefined, learner.language)
        : { language: learner.language, parts: { subject: '', html: '', text: '' } };
      if (!failure) {
        try {
          checkParts(parts, notice.context, 'template');
        } catch (err) {
          failure = `mail template ${template!.name}: ${(err as Error).message}`;
        }
      }
      const mail: NewMail = {
        source: `event:${event.id}`,
        recipientId: learner.id.toLowerCase(),
        context: notice.context,
        templateId: template?.id ?? null,
        to: learner.email,
        language,
        parts,
        data,
        failure,
      };
      await queueMails(tx, [mail]);
      if (failure) logger.warn({ eventId: event.id, reason: failure }, 'an assignment mail cannot be sent');
      // Sent once the transaction commits: the sender polls, and is told after a short delay.
      setTimeout(() => deps.poke(), 50).unref();
    },
  };
}
