import type { Logger, Outbox } from '@assistants/kit';
import { ROOT_ORGANISATION_ID } from '@assistants/kit';
import { Caller } from './caller';
import { hashPassword } from './passwords';
import { grantRoles } from './roles';
import { createUser } from './users';
import { checkPassword } from './validation';

/** The built-in role with every permission, created by the first migration. */
export const ADMINISTRATOR_ROLE_ID = '00000000-0000-4000-8000-000000000002';

/** Creates the first administrator (Administrator role on the root organisation) from the
 * configuration, once: when a user with that login exists, nothing changes, so a password
 * changed since is kept. */
export async function ensureBootstrapAdmin(outbox: Outbox, logger: Logger, login: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(checkPassword('IDENTITY_BOOTSTRAP_ADMIN_PASSWORD', password));
  const created = await outbox.transaction(async (tx, emit) => {
    // Serialises replicas starting together.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('identity:bootstrap-admin'))`);
    const { rows } = await tx.query('SELECT 1 FROM users WHERE lower(login) = lower($1)', [login]);
    if (rows.length > 0) return false;
    const user = await createUser(tx, emit, Caller.system, {
      fields: { login, lastName: 'Administrator', firstName: 'Bootstrap', organisationId: ROOT_ORGANISATION_ID },
      passwordHash,
      audienceIds: [],
    });
    await grantRoles(tx, emit, Caller.system, {
      userIds: [user.id],
      roleIds: [ADMINISTRATOR_ROLE_ID],
      organisationId: ROOT_ORGANISATION_ID,
    });
    return true;
  });
  if (created) logger.info({ login }, 'bootstrap administrator created');
}
