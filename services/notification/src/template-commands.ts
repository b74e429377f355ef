import { invalidArgument, notFound } from '@assistants/kit';
import type {
  ListTemplatesRequest,
  ListTemplatesResponse,
  MailTemplate,
  PreviewTemplateRequest,
  PreviewTemplateResponse,
  ValidateTemplateUseRequest,
} from '@assistants/proto/gen/notification/v1/templates';
import { requirePermission } from './caller';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { contextOf, templateInput, templateMessage } from './shapes';
import { checkParts, checkTemplate, pickVariant, render, sampleData, usableIn, type MailContext } from './templates';
import { deleteTemplateRow, findTemplate, insertTemplate, listTemplateRows, updateTemplateRow, type TemplateRow } from './templates.repo';
import type { TemplateInput as TemplateInputMessage } from '@assistants/proto/gen/notification/v1/templates';

const write = (deps: Deps, actorId: string) => requirePermission(deps.upstreams.identity, actorId, PERMISSIONS.writeTemplates, true);
const read = (deps: Deps, actorId: string) => requirePermission(deps.upstreams.identity, actorId, PERMISSIONS.readTemplates, false);

export async function createTemplate(deps: Deps, actorId: string, input: TemplateInputMessage | undefined): Promise<MailTemplate> {
  await write(deps, actorId);
  return templateMessage(await insertTemplate(deps.db, checkTemplate(templateInput(input))));
}

export async function updateTemplate(
  deps: Deps,
  actorId: string,
  id: string,
  input: TemplateInputMessage | undefined,
): Promise<MailTemplate> {
  await write(deps, actorId);
  const row = await updateTemplateRow(deps.db, id, checkTemplate(templateInput(input)));
  if (!row) throw notFound(`no mail template with id ${id}`, 'id');
  return templateMessage(row);
}

export async function getTemplate(deps: Deps, actorId: string, id: string): Promise<MailTemplate> {
  await read(deps, actorId);
  const row = await findTemplate(deps.db, id);
  if (!row) throw notFound(`no mail template with id ${id}`, 'id');
  return templateMessage(row);
}

export async function deleteTemplate(deps: Deps, actorId: string, id: string): Promise<void> {
  await write(deps, actorId);
  if (!(await deleteTemplateRow(deps.db, id))) throw notFound(`no mail template with id ${id}`, 'id');
}

export async function listTemplates(deps: Deps, actorId: string, req: ListTemplatesRequest): Promise<ListTemplatesResponse> {
  await read(deps, actorId);
  const limit = req.page?.limit || 50;
  if (limit > 500) throw invalidArgument('limit', 'limit must be at most 500');
  const { rows, nextCursor } = await listTemplateRows(deps.db, contextOf(req.context), limit, req.page?.after ?? '');
  return { templates: rows.map(templateMessage), nextCursor };
}

export async function previewTemplate(deps: Deps, actorId: string, req: PreviewTemplateRequest): Promise<PreviewTemplateResponse> {
  await read(deps, actorId);
  let template: { context: MailContext; defaultLanguage: string; variants: TemplateRow['variants'] };
  if (req.templateId) {
    const row = await findTemplate(deps.db, req.templateId);
    if (!row) throw notFound(`no mail template with id ${req.templateId}`, 'templateId');
    template = row;
  } else {
    template = checkTemplate(templateInput(req.template));
  }
  const variant = pickVariant(template.variants, template.defaultLanguage, req.language);
  const fields = checkParts(variant, template.context, `variants[${template.variants.indexOf(variant)}]`);
  const data = sampleData(deps.config.NOTIFICATION_PLATFORM_URL, req.sample);
  return {
    language: variant.language,
    ...render(variant, template.context === 'welcome' ? data : { ...data, password: undefined }),
    fields,
  };
}

/** A stored template that may notify in `context`, its fields checked again for it (a
 * template saved before a rule changed must not get through either). */
export async function templateForUse(deps: Deps, templateId: string, context: MailContext, field: string): Promise<TemplateRow> {
  const row = await findTemplate(deps.db, templateId);
  if (!row) throw invalidArgument(field, `no mail template with id ${templateId}`);
  if (!usableIn(row.context, context)) {
    throw invalidArgument(
      field,
      `mail template ${row.name} is a ${row.context.replace('_', ' ')} template: it cannot be used for ${context.replace('_', ' ')} mails`,
    );
  }
  row.variants.forEach((variant, i) => {
    try {
      checkParts(variant, context, `variants[${i}]`);
    } catch (err) {
      throw invalidArgument(field, `mail template ${row.name}, variants[${i}]: ${(err as Error).message}`);
    }
  });
  return row;
}

/** Service-level (the service token is enough): a run's validation asks it on behalf of
 * whoever starts the run, who need not read templates to notify with one. */
export async function validateTemplateUse(deps: Deps, req: ValidateTemplateUseRequest): Promise<MailTemplate> {
  const context = contextOf(req.context);
  if (!context) throw invalidArgument('context', 'context is required');
  return templateMessage(await templateForUse(deps, req.templateId, context, req.field || 'templateId'));
}
