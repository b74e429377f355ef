import type { Learner } from '@assistants/proto/gen/assignment/v1/events';
import { AssignmentOption } from '@assistants/proto/gen/assignment/v1/common';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import { pickVariant, type MailData, type MailParts } from './templates';
import type { TemplateRow } from './templates.repo';

/** The user fields of a mail, from identity's answer or an event's learner (the same names). */
export function userData(user: UserForAction | Learner, platformUrl: string): MailData {
  return {
    user: {
      first_name: user.firstName,
      last_name: user.lastName,
      title: user.title,
      login: user.login,
      email: user.email,
      organisation: user.organisationName,
      manager: user.managerName,
    },
    platform_url: platformUrl,
  };
}

const OPTION_WORDS: Partial<Record<AssignmentOption, string>> = {
  [AssignmentOption.ASSIGNMENT_OPTION_FREE]: 'Free',
  [AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED]: 'Recommended',
  [AssignmentOption.ASSIGNMENT_OPTION_MANDATORY]: 'Mandatory',
};

/** A course's or curriculum's fields: dates "YYYY-MM-DD" or "", the option as a word. */
export function assignmentData(
  item: { name: string; code: string } | undefined,
  assignment: { startDate: string; objectiveDate: string; endDate: string; option: AssignmentOption } | undefined,
): Record<string, string> {
  return {
    name: item?.name ?? '',
    code: item?.code ?? '',
    start_date: assignment?.startDate ?? '',
    objective_date: assignment?.objectiveDate ?? '',
    end_date: assignment?.endDate ?? '',
    option: OPTION_WORDS[assignment?.option ?? AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED] ?? '',
  };
}

/** The parts a user gets: the template's variant in its language, or the edited content. */
export function partsFor(
  template: TemplateRow | undefined,
  content: MailParts | undefined,
  language: string,
): { language: string; parts: MailParts } {
  if (content) return { language, parts: content };
  const variant = pickVariant(template!.variants, template!.defaultLanguage, language);
  return { language: variant.language, parts: { subject: variant.subject, html: variant.html, text: variant.text } };
}
