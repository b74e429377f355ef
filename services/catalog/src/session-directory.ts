import { DomainError } from '@assistants/kit';
import { usersForActionByLogin, type IdentityClient } from '@assistants/identity/client';
import { CATALOG_WRITE } from './permissions';

/** What a session import asks identity, on behalf of the importer: the users its rows name
 * by login (trainers, manager) and the organisations they name by external id. */
export interface SessionDirectory {
  /** The ids of the users with these logins, by lower-case login (unknown logins absent). */
  userIds(logins: string[]): Promise<Map<string, string>>;
  /** The ids of the organisations with these external ids that lie within the importer's
   * organisations:read scope, by lower-case external id (others absent: a scoped
   * administrator learns nothing of organisations outside its scope). */
  organisationIds(extIds: string[]): Promise<Map<string, string>>;
}

export function identityDirectory(identity: IdentityClient): SessionDirectory {
  return {
    async userIds(logins) {
      if (logins.length === 0) return new Map();
      // catalog:write is held on the root by whoever imports sessions: every user is in
      // that scope, so any trainer of the suite may be named.
      const users = await usersForActionByLogin(identity, logins, CATALOG_WRITE);
      return new Map([...users].filter(([, u]) => u.found).map(([login, u]) => [login, u.id.toLowerCase()]));
    },
    async organisationIds(extIds) {
      const found = await Promise.all(
        extIds.map(async (extId) => {
          try {
            const { organisation } = await identity.organisations.getOrganisation({ id: '', extId });
            return [extId.toLowerCase(), organisation!.id.toLowerCase()] as const;
          } catch (error) {
            // Unknown, or outside the importer's scope (identity answers both the same way).
            if (error instanceof DomainError && (error.code === 'NOT_FOUND' || error.code === 'PERMISSION_DENIED')) return undefined;
            throw error;
          }
        }),
      );
      return new Map(found.filter((f) => f !== undefined));
    },
  };
}
