import type { NotificationClient } from '@assistants/notification/client';
import { TemplateContext, type MailTemplate as MailTemplateMessage } from '@assistants/proto/gen/notification/v1/templates';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { After, IdParams, NoContent, OneOf, responses } from '../schemas/common';

const tags = ['mails'];

export const MAIL_CONTEXTS = ['user', 'course_assignment', 'curriculum_assignment', 'welcome'] as const;
export type MailContextName = (typeof MAIL_CONTEXTS)[number];
const CONTEXT_VALUES: Record<MailContextName, TemplateContext> = {
  user: TemplateContext.TEMPLATE_CONTEXT_USER,
  course_assignment: TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
  curriculum_assignment: TemplateContext.TEMPLATE_CONTEXT_CURRICULUM_ASSIGNMENT,
  welcome: TemplateContext.TEMPLATE_CONTEXT_WELCOME,
};
export const contextValue = (name: MailContextName): TemplateContext => CONTEXT_VALUES[name];
const contextName = (value: TemplateContext): string =>
  (Object.entries(CONTEXT_VALUES).find(([, v]) => v === value)?.[0] as string | undefined) ?? '';

const LANGUAGES = ['fr-FR', 'en-EN', 'es-ES'] as const;
const Source = (description: string) => Type.String({ maxLength: 100_000, description });
const Variant = Type.Object(
  {
    language: OneOf(LANGUAGES, 'the users of this language get this variant'),
    subject: Source('plain text with dynamic fields, e.g. "Welcome {{ user.first_name }}"'),
    html: Type.Optional(Source('HTML; every value is HTML-escaped')),
    text: Type.Optional(Source('plain text')),
  },
  { additionalProperties: false },
);
const TemplateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    context: OneOf(MAIL_CONTEXTS, 'what its dynamic fields are resolved from (see the notification service README)'),
    defaultLanguage: Type.Optional(OneOf(LANGUAGES, 'the variant of users whose language has none (default: the first)')),
    variants: Type.Array(Variant, { minItems: 1, maxItems: 3 }),
  },
  { additionalProperties: false },
);
const MailTemplate = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    context: Type.String(),
    defaultLanguage: Type.String(),
    variants: Type.Array(Type.Object({ language: Type.String(), subject: Type.String(), html: Type.String(), text: Type.String() })),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'MailTemplate' },
);
const FailedMail = Type.Object(
  {
    id: Type.String(),
    recipientId: Type.String(),
    to: Type.String(),
    subject: Type.String({ description: 'the subject as the user would read it' }),
    reason: Type.String({ description: 'the SMTP server’s answer, or why it could not be sent' }),
    attempts: Type.Integer(),
    failedAt: Type.String(),
    source: Type.String({ description: 'what queued it: event:<id>, batch:<key>, welcome:<key>' }),
    context: Type.String(),
  },
  { $id: 'FailedMail' },
);

export const MAIL_SCHEMAS = [MailTemplate, FailedMail];

function templateInput(body: Static<typeof TemplateBody>) {
  return {
    name: body.name,
    context: contextValue(body.context),
    defaultLanguage: body.defaultLanguage ?? '',
    variants: body.variants.map((v) => ({ language: v.language, subject: v.subject, html: v.html ?? '', text: v.text ?? '' })),
  };
}

const toHttpTemplate = (t: MailTemplateMessage) => ({ ...t, context: contextName(t.context) });

/** Mail templates and the mails that failed for good (the notification service decides). */
export const mailRoutes: FastifyPluginAsyncTypebox<{ notification: NotificationClient }> = async (app, { notification }) => {
  const { templates, mails } = notification;

  app.post(
    '/v1/mail-templates',
    {
      schema: {
        tags,
        summary: 'Create a mail template (LiquidJS); a field its context cannot resolve is refused, naming the variant part and line',
        body: TemplateBody,
        response: responses({ 201: Type.Ref(MailTemplate) }),
      },
      config: { needs: 'mail-templates:write (on the root organisation)' },
    },
    async (request, reply) => {
      const { template } = await templates.createTemplate({ template: templateInput(request.body) });
      return reply.code(201).header('location', `/v1/mail-templates/${template!.id}`).send(toHttpTemplate(template!));
    },
  );

  app.get(
    '/v1/mail-templates',
    {
      schema: {
        tags,
        summary: 'The mail templates, by name (keyset paged)',
        querystring: Type.Object(
          {
            context: Type.Optional(OneOf(MAIL_CONTEXTS)),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            after: After,
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(MailTemplate)), nextCursor: Type.String() }) }),
      },
      config: { needs: 'mail-templates:read' },
    },
    async (request) => {
      const { context, limit = 50, after = '' } = request.query;
      const page = await templates.listTemplates({
        context: context ? contextValue(context) : TemplateContext.TEMPLATE_CONTEXT_UNSPECIFIED,
        page: { limit, after },
      });
      return { items: page.templates.map(toHttpTemplate), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/mail-templates/:id',
    {
      schema: { tags, summary: 'One mail template', params: IdParams, response: responses({ 200: Type.Ref(MailTemplate) }) },
      config: { needs: 'mail-templates:read' },
    },
    async (request) => toHttpTemplate((await templates.getTemplate({ id: request.params.id })).template!),
  );

  app.put(
    '/v1/mail-templates/:id',
    {
      schema: {
        tags,
        summary: 'Replace a mail template',
        params: IdParams,
        body: TemplateBody,
        response: responses({ 200: Type.Ref(MailTemplate) }),
      },
      config: { needs: 'mail-templates:write (on the root organisation)' },
    },
    async (request) =>
      toHttpTemplate((await templates.updateTemplate({ id: request.params.id, template: templateInput(request.body) })).template!),
  );

  app.delete(
    '/v1/mail-templates/:id',
    {
      schema: { tags, summary: 'Delete a mail template', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: 'mail-templates:write (on the root organisation)' },
    },
    async (request, reply) => {
      await templates.deleteTemplate({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );

  const PreviewAnswer = Type.Object({
    language: Type.String(),
    subject: Type.String(),
    html: Type.String(),
    text: Type.String(),
    fields: Type.Array(Type.String(), { description: 'the dynamic fields the variant uses' }),
  });
  const Sample = Type.Optional(
    Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }), {
      description: 'sample values by field, e.g. {"user.first_name": "Zoé"}; the others take built-in samples',
    }),
  );

  app.post(
    '/v1/mail-templates/:id/preview',
    {
      schema: {
        tags,
        summary: 'Render a stored template with sample data',
        params: IdParams,
        body: Type.Object({ language: Type.Optional(OneOf(LANGUAGES)), sample: Sample }, { additionalProperties: false }),
        response: responses({ 200: PreviewAnswer }),
      },
      config: { needs: 'mail-templates:read' },
    },
    async (request) =>
      templates.previewTemplate({
        templateId: request.params.id,
        language: request.body.language ?? '',
        sample: request.body.sample ?? {},
      }),
  );

  app.post(
    '/v1/mail-templates/preview',
    {
      schema: {
        tags,
        summary: 'Render a template being written (not saved) with sample data; it is checked as if saved',
        body: Type.Object(
          { template: TemplateBody, language: Type.Optional(OneOf(LANGUAGES)), sample: Sample },
          { additionalProperties: false },
        ),
        response: responses({ 200: PreviewAnswer }),
      },
      config: { needs: 'mail-templates:read' },
    },
    async (request) =>
      templates.previewTemplate({
        templateId: '',
        template: templateInput(request.body.template),
        language: request.body.language ?? '',
        sample: request.body.sample ?? {},
      }),
  );

  app.get(
    '/v1/mails/failed',
    {
      schema: {
        tags,
        summary: 'The mails that failed for good, newest first, with the reason',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })), after: After },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(FailedMail)), nextCursor: Type.String() }) }),
      },
      config: { needs: 'mails:manage (on the root organisation)' },
    },
    async (request) => {
      const { limit = 50, after = '' } = request.query;
      const page = await mails.listFailedMails({ page: { limit, after } });
      return { items: page.mails.map((m) => ({ ...m, context: contextName(m.context) })), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/mails/retry',
    {
      schema: {
        tags,
        summary: 'Send failed mails again (their attempts start over)',
        body: Type.Object(
          { ids: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 1000 }) },
          { additionalProperties: false },
        ),
        response: responses({
          200: Type.Object({ retried: Type.Array(Type.String(), { description: 'the ids queued again; the others were not failed' }) }),
        }),
      },
      config: { needs: 'mails:manage (on the root organisation)' },
    },
    async (request) => mails.retryMails({ ids: request.body.ids }),
  );
};
