import { applyBatch, invalidArgument, itemResult } from '@assistants/kit';
import { Outcome, type BatchResult, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { SendMailsRequest } from '@assistants/proto/gen/notification/v1/mails';
import { batchUserIds, batchUsers, partitionUsers } from './batch-users';
import type { Deps } from './deps';
import { partsFor, userData } from './mail-data';
import { queueMails, type NewMail } from './mails.repo';
import { PERMISSIONS } from './permissions';
import { templateForUse } from './template-commands';
import { checkParts, type MailParts } from './templates';
import type { TemplateRow } from './templates.repo';

/** U16: one mail per user of the batch, queued in the batch's transaction (a repeated batch
 * queues nothing again). The template or content is checked before any user is looked at. */
export async function sendMails(deps: Deps, req: SendMailsRequest): Promise<BatchResult> {
  let template: TemplateRow | undefined;
  if (req.templateId) template = await templateForUse(deps, req.templateId, 'user', 'templateId');
  const given = req.content;
  let content: MailParts | undefined;
  if (given && (given.subject || given.html || given.text)) {
    if (!given.subject.trim()) throw invalidArgument('content.subject', 'subject is required');
    if (!given.html.trim() && !given.text.trim()) throw invalidArgument('content.text', 'a mail has an HTML or a text part (or both)');
    checkParts(given, 'user', 'content');
    content = { subject: given.subject, html: given.html, text: given.text };
  } else if (!template) {
    throw invalidArgument('templateId', 'a mail needs a template (templateId) or a content (content.subject, content.html, content.text)');
  }
  const userIds = batchUserIds(req.userIds);
  // Asked even for no users: the permission is checked all the same (a run's validation).
  const users = await batchUsers(deps.upstreams.identity, userIds, PERMISSIONS.send);
  const { refused } = partitionUsers(userIds, users, PERMISSIONS.send);
  const { batch, ...request } = req;
  const result = await applyBatch(deps.outbox, batch, request, async (tx, _emit, dryRun) => {
    const source = `batch:${dryRun ? 'dry-run' : batch!.idempotencyKey}`;
    const results: ItemResult[] = [];
    const mails: NewMail[] = [];
    for (const id of userIds) {
      const user = users.get(id)!;
      const refusal = refused.get(id);
      if (refusal) results.push(refusal);
      else if (!user.email) results.push(itemResult.failed(id, '', 'NO_EMAIL', 'this user has no email address'));
      else {
        const { language, parts } = partsFor(template, content, user.language);
        mails.push({
          source,
          recipientId: id,
          context: 'user',
          templateId: template?.id ?? null,
          to: user.email,
          language,
          parts,
          data: userData(user, deps.config.NOTIFICATION_PLATFORM_URL),
        });
        results.push(itemResult.succeeded(id));
      }
    }
    const queued = await queueMails(tx, mails);
    return results.map((r) =>
      r.outcome === Outcome.OUTCOME_SUCCEEDED && !queued.has(r.itemId)
        ? itemResult.unchanged(r.itemId, '', 'ALREADY_QUEUED', 'this batch already queued a mail to this user')
        : r,
    );
  });
  deps.poke();
  return result;
}
