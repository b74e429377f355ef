import {
  TemplateContext,
  type MailTemplate,
  type TemplateInput as TemplateInputMessage,
} from '@assistants/proto/gen/notification/v1/templates';
import type { TemplateRow } from './templates.repo';
import type { MailContext, TemplateInput } from './templates';

const CONTEXTS: [TemplateContext, MailContext][] = [
  [TemplateContext.TEMPLATE_CONTEXT_USER, 'user'],
  [TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT, 'course_assignment'],
  [TemplateContext.TEMPLATE_CONTEXT_CURRICULUM_ASSIGNMENT, 'curriculum_assignment'],
  [TemplateContext.TEMPLATE_CONTEXT_WELCOME, 'welcome'],
];

/** undefined for UNSPECIFIED. */
export const contextOf = (value: TemplateContext): MailContext | undefined => CONTEXTS.find(([v]) => v === value)?.[1];
export const contextMessage = (context: MailContext): TemplateContext => CONTEXTS.find(([, c]) => c === context)![0];

export function templateInput(message: TemplateInputMessage | undefined): TemplateInput {
  return {
    name: message?.name ?? '',
    context: contextOf(message?.context ?? TemplateContext.TEMPLATE_CONTEXT_UNSPECIFIED) as MailContext,
    defaultLanguage: message?.defaultLanguage ?? '',
    variants: (message?.variants ?? []).map((v) => ({ language: v.language, subject: v.subject, html: v.html, text: v.text })),
  };
}

export function templateMessage(row: TemplateRow): MailTemplate {
  return {
    id: row.id,
    name: row.name,
    context: contextMessage(row.context),
    defaultLanguage: row.defaultLanguage,
    variants: row.variants,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
