import { randomUUID } from 'node:crypto';
import { invalidArgument, notFound, type SecretBox } from '@assistants/kit';
import type { SendWelcomeMailRequest, SendWelcomeMailResponse } from '@assistants/proto/gen/notification/v1/mails';
import type { Deps } from './deps';
import { partsFor, userData } from './mail-data';
import { queueMails } from './mails.repo';
import { PERMISSIONS } from './permissions';
import { templateForUse } from './template-commands';

/** The welcome mail of a new account (the user import asks for it with the password it
 * generated). The password is sealed with the secret key, bound to the mail's id, and only
 * opened in memory when the mail is rendered for sending; it is wiped once the server accepts
 * it. Nothing else about it is logged, stored or emitted. */
export async function sendWelcomeMail(deps: Deps, box: SecretBox, req: SendWelcomeMailRequest): Promise<SendWelcomeMailResponse> {
  const key = req.idempotencyKey.trim();
  if (!key) throw invalidArgument('idempotencyKey', 'idempotencyKey is required');
  if (!req.password) throw invalidArgument('password', 'password is required');
  const template = await templateForUse(deps, req.templateId, 'welcome', 'templateId');
  const { users } = await deps.upstreams.identity.users.getUsersForAction({ userIds: [req.userId], permission: PERMISSIONS.send });
  const user = users[0];
  if (!user?.found || !user.inScope) throw notFound(`no user with id ${req.userId}`, 'userId');
  if (!user.email) throw invalidArgument('userId', 'this user has no email address');
  const id = randomUUID();
  const { language, parts } = partsFor(template, undefined, user.language);
  const source = `welcome:${key}`;
  const queued = await queueMails(deps.db, [
    {
      id,
      source,
      recipientId: user.id.toLowerCase(),
      context: 'welcome',
      templateId: template.id,
      to: user.email,
      language,
      parts,
      data: userData(user, deps.config.NOTIFICATION_PLATFORM_URL),
      secret: box.seal(req.password, id),
    },
  ]);
  deps.poke();
  if (queued.size > 0) return { mailId: id, queued: true };
  const { rows } = await deps.db.query<{ id: string }>('SELECT id FROM mails WHERE source = $1 AND recipient_id = $2', [
    source,
    user.id.toLowerCase(),
  ]);
  return { mailId: rows[0]?.id ?? '', queued: false };
}
