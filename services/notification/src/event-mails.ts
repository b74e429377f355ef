import type { ConsumerDefinition, DeliveredEvent, EventEnvelope, Logger } from '@assistants/kit';
import {
  CertificateIssued,
  CourseAssignmentChanged,
  CurriculumAssignmentChanged,
  type Learner,
} from '@assistants/proto/gen/assignment/v1/events';
import { CourseReset, CurriculumReset } from '@assistants/proto/gen/statistics/v1/events';
import type { Deps } from './deps';
import { assignmentData, partsFor, userData } from './mail-data';
import { queueMails, type NewMail } from './mails.repo';
import { checkParts, usableIn, type MailContext, type MailData } from './templates';
import { findTemplates, type TemplateRow } from './templates.repo';

/*
 * Mails that other services' events ask for: an event names a mail template and carries the
 * learner (and the course or curriculum) a mail needs. One consumer per stream, the same code
 * for each: the assignment actions (U7, U8, U10-U13, U15, C6, C7, P4) and the statistics
 * resets (U9, U14).
 */

export const ASSIGNMENT_MAILS_DURABLE = 'notification-assignment-mails';
export const STATISTICS_MAILS_DURABLE = 'notification-statistics-mails';
/** The streams these mails come from (see proto/assignment/v1/events.proto and
 * proto/statistics/v1/events.proto). */
export const ASSIGNMENT_STREAM = { name: 'ASSIGNMENT', subjects: ['assignment.>'] };
export const STATISTICS_STREAM = { name: 'STATISTICS', subjects: ['statistics.>'] };

interface Notice {
  context: MailContext;
  templateId: string;
  learner: Learner | undefined;
  fields: Partial<Pick<MailData, 'course' | 'curriculum'>>;
}

type Item = Parameters<typeof assignmentData>[0];
type Dates = Parameters<typeof assignmentData>[1];
/** What every notifying event carries (a missing JSON field is ""). */
type Notifying = { notifyTemplateId: string; learner?: Learner };

const courseNotice = (e: Notifying, course: Item, assignment?: Dates): Notice => ({
  context: 'course_assignment',
  templateId: e.notifyTemplateId,
  learner: e.learner,
  fields: { course: assignmentData(course, assignment) },
});

const curriculumNotice = (e: Notifying, curriculum: Item, assignment?: Dates): Notice => ({
  context: 'curriculum_assignment',
  templateId: e.notifyTemplateId,
  learner: e.learner,
  fields: { curriculum: assignmentData(curriculum, assignment) },
});

/** What an assignment event asks to mail, if anything. */
function assignmentNotice(event: EventEnvelope): Notice | undefined {
  if (/^assignment\.course\.(assigned|updated|removed)\.v1$/.test(event.subject)) {
    const e = CourseAssignmentChanged.fromJSON(event.data);
    return courseNotice(e, e.course, e.assignment);
  }
  if (/^assignment\.curriculum\.(assigned|updated|removed)\.v1$/.test(event.subject)) {
    const e = CurriculumAssignmentChanged.fromJSON(event.data);
    return curriculumNotice(e, e.curriculum, e.assignment);
  }
  if (event.subject === 'assignment.certificate.issued.v1') {
    const e = CertificateIssued.fromJSON(event.data);
    return courseNotice(e, e.course);
  }
  return undefined;
}

/** What a statistics event asks to mail: a reset (U9, U14) names the course or curriculum;
 * assignment dates are not the reset's to tell. */
function statisticsNotice(event: EventEnvelope): Notice | undefined {
  if (event.subject === 'statistics.course.reset.v1') {
    const e = CourseReset.fromJSON(event.data);
    return courseNotice(e, e.course);
  }
  if (event.subject === 'statistics.curriculum.reset.v1') {
    const e = CurriculumReset.fromJSON(event.data);
    return curriculumNotice(e, e.curriculum);
  }
  return undefined;
}

/** Where a consumer's mails come from: a stream and what each of its events asks to mail. */
interface MailSource {
  stream: string;
  durable: string;
  /** What it is called in the logs. */
  what: string;
  noticeOf(event: EventEnvelope): Notice | undefined;
}

const SOURCES = {
  assignment: { stream: ASSIGNMENT_STREAM.name, durable: ASSIGNMENT_MAILS_DURABLE, what: 'an assignment mail', noticeOf: assignmentNotice },
  statistics: { stream: STATISTICS_STREAM.name, durable: STATISTICS_MAILS_DURABLE, what: 'a statistics mail', noticeOf: statisticsNotice },
} satisfies Record<string, MailSource>;

/** One mail per event that names a template, queued in the transaction that claims the event,
 * under the key (event id, learner) — a redelivered event queues nothing twice. A template
 * deleted or no longer usable since the run was validated is recorded as a failed mail, with
 * why. The events that arrive together are handled together (a 50,000-learner run is 50,000
 * events: one transaction each bounded the fan-out at about 300 mails/s; see BENCHMARKS.md). */
function eventMailsConsumer(source: MailSource, deps: Deps, logger: Logger): ConsumerDefinition {
  return {
    stream: source.stream,
    durable: source.durable,
    subject: `${source.stream.toLowerCase()}.>`,
    prefetch: 64,
    groupHandler: async (events: DeliveredEvent[], { tx }) => {
      const notices = events
        .map(({ event }) => ({ event, notice: source.noticeOf(event) }))
        .filter((n): n is { event: EventEnvelope; notice: Notice } => !!n.notice?.templateId && !!n.notice.learner?.id);
      if (notices.length === 0) return;
      const templates = await findTemplates(
        tx,
        notices.map((n) => n.notice.templateId),
      );
      const mails = notices.map(({ event, notice }) => mailFor(event, notice, templates.get(notice.templateId), deps));
      await queueMails(tx, mails);
      for (const mail of mails) {
        if (mail.failure) logger.warn({ eventId: mail.source, reason: mail.failure }, `${source.what} cannot be sent`);
      }
      // Sent once the transaction commits: the sender polls, and is told after a short delay.
      setTimeout(() => deps.poke(), 50).unref();
    },
  };
}

/** The notify options of the assignment actions (U7, U8, U10-U13, U15, C6, C7, P4). */
export const assignmentMailsConsumer = (deps: Deps, logger: Logger) => eventMailsConsumer(SOURCES.assignment, deps, logger);

/** The notify options of the statistics resets (U9, U14). */
export const statisticsMailsConsumer = (deps: Deps, logger: Logger) => eventMailsConsumer(SOURCES.statistics, deps, logger);

/** The mail an event asks for, or the failed mail that says why it cannot be sent. */
function mailFor(event: EventEnvelope, notice: Notice, template: TemplateRow | undefined, deps: Deps): NewMail {
  const learner = notice.learner!;
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
  return {
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
}
