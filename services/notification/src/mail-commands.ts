import { invalidArgument } from '@assistants/kit';
import type { ListFailedMailsRequest, ListFailedMailsResponse } from '@assistants/proto/gen/notification/v1/mails';
import { requirePermission } from './caller';
import type { Deps } from './deps';
import { listFailed, retryFailed } from './mails.repo';
import { PERMISSIONS } from './permissions';
import { contextMessage } from './shapes';
import { renderSubject, type MailData } from './templates';

/** The subject as the user would have read it; as written when it cannot be rendered. */
function subjectOf(source: string, data: MailData): string {
  try {
    return renderSubject(source, data);
  } catch {
    return source;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listFailedMails(deps: Deps, actorId: string, req: ListFailedMailsRequest): Promise<ListFailedMailsResponse> {
  await requirePermission(deps.upstreams.identity, actorId, PERMISSIONS.manage, true);
  const limit = req.page?.limit || 50;
  if (limit > 500) throw invalidArgument('limit', 'limit must be at most 500');
  const { rows, nextCursor } = await listFailed(deps.db, limit, req.page?.after ?? '');
  return {
    mails: rows.map(({ data, ...r }) => ({ ...r, subject: subjectOf(r.subject, data), context: contextMessage(r.context) })),
    nextCursor,
  };
}

export async function retryMails(deps: Deps, actorId: string, ids: string[]): Promise<string[]> {
  await requirePermission(deps.upstreams.identity, actorId, PERMISSIONS.manage, true);
  if (ids.length === 0) throw invalidArgument('ids', 'ids is required');
  if (ids.length > 1000) throw invalidArgument('ids', 'at most 1,000 ids');
  ids.forEach((id, i) => {
    if (!UUID.test(id)) throw invalidArgument(`ids[${i}]`, `${id} is not a mail id`);
  });
  const retried = await retryFailed(
    deps.db,
    ids.map((id) => id.toLowerCase()),
  );
  deps.poke();
  return retried;
}
