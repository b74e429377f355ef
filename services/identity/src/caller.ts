import {
  ALL_PERMISSIONS,
  failedPrecondition,
  isId,
  permissionDenied,
  type Queryable,
  ROOT_ORGANISATION_ID,
  unauthenticated,
} from '@assistants/kit';
import { ResolvedScope, ROOT_PATH } from './scope';
import { mayLogIn, type UserRow } from './users.repo';

/** A grant as authorisation reads it: what it allows, and where (the organisation's path). */
export type GrantInTree = {
  roleName: string;
  permissions: string[];
  organisationId: string;
  path: string;
};

/** A user as a call's authorisation reads it, with every grant it holds (in name order). */
export type ActingUserRow = Pick<UserRow, 'id' | 'login' | 'disabled' | 'activation_date' | 'expiration_date' | 'must_change_password'> & {
  grants: (GrantInTree & { userId: string; roleId: string })[];
};

/** Every call runs it (Caller.load, and GetPrincipal for the other services): prepared once
 * per connection. */
const LOAD_ACTING_USER = {
  name: 'identity.load-acting-user',
  text: `SELECT u.id, u.login, u.disabled, u.activation_date, u.expiration_date, u.must_change_password, coalesce((
           SELECT json_agg(json_build_object('userId', g.user_id, 'roleId', g.role_id, 'roleName', r.name,
                                             'permissions', r.permissions, 'organisationId', o.id, 'path', o.path)
                           ORDER BY lower(r.name), g.organisation_id)
           FROM role_grants g JOIN roles r ON r.id = g.role_id JOIN organisations o ON o.id = g.organisation_id
           WHERE g.user_id = u.id), '[]'::json) AS grants
         FROM users u WHERE u.id = $1`,
};

export async function loadActingUser(q: Queryable, userId: string): Promise<ActingUserRow | undefined> {
  return (await q.query<ActingUserRow>(LOAD_ACTING_USER, [userId])).rows[0];
}

/** The acting user of a call and its role grants, loaded fresh on every call (a revoked
 * grant stops working at once). Every command asks it for the scope of the permission it
 * needs: authorisation is decided here, next to the data, for every caller alike. */
export class Caller {
  private constructor(
    readonly userId: string,
    readonly login: string,
    readonly grants: GrantInTree[],
  ) {}

  /** Identity's own work at start (the first administrator): everything. */
  static readonly system = new Caller('', 'system', [
    { roleName: 'system', permissions: [ALL_PERMISSIONS], organisationId: ROOT_ORGANISATION_ID, path: ROOT_PATH },
  ]);

  /** The acting user named by the call. Refused when there is none, when it may not log in
   * (disabled, outside its dates) or, unless `passwordChange`, when it must change its
   * password first. */
  static async load(q: Queryable, actorId: string, options: { passwordChange?: boolean } = {}): Promise<Caller> {
    if (!actorId) throw unauthenticated('this call needs an acting user');
    if (!isId(actorId)) throw unauthenticated('the acting user is unknown, disabled or outside its activation dates');
    const user = await loadActingUser(q, actorId.toLowerCase());
    if (!user || !mayLogIn(user)) throw unauthenticated('the acting user is unknown, disabled or outside its activation dates');
    if (user.must_change_password && !options.passwordChange) {
      throw failedPrecondition('your password was set by an administrator: change it before anything else');
    }
    return new Caller(user.id, user.login, user.grants);
  }

  private grantsWith(permission: string): GrantInTree[] {
    return this.grants.filter((g) => g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS));
  }

  /** Where the caller holds `permission`; PERMISSION_DENIED when it holds it nowhere. */
  scope(permission: string): ResolvedScope {
    const grants = this.grantsWith(permission);
    if (grants.length === 0) throw permissionDenied(`this needs the permission ${permission}`);
    return ResolvedScope.of(grants.map((g) => g.path));
  }

  /** For global objects (roles, audiences): the permission must be held on the root. */
  requireRoot(permission: string): void {
    if (!this.grantsWith(permission).some((g) => g.path === ROOT_PATH)) {
      throw permissionDenied(`this needs the permission ${permission} on the root organisation`);
    }
  }

  /** Whether the caller holds `permission` on some organisation. */
  holdsAnywhere(permission: string): boolean {
    return this.grantsWith(permission).length > 0;
  }

  /** Whether the caller holds `permission` on the organisation at `path`. */
  holds(permission: string, path: string): boolean {
    return this.grantsWith(permission).some((g) => path.startsWith(g.path));
  }

  /** The first permission of `permissions` the caller does not hold at `path`, if any. "*"
   * is held only through a grant carrying "*". */
  missing(permissions: string[], path: string): string | undefined {
    return permissions.find((permission) =>
      permission === ALL_PERMISSIONS
        ? !this.grants.some((g) => g.permissions.includes(ALL_PERMISSIONS) && path.startsWith(g.path))
        : !this.holds(permission, path),
    );
  }

  /** Whether `grant` (someone else's) allows something the caller's own grants do not. */
  isExceededBy(grant: GrantInTree): boolean {
    return this.missing(grant.permissions, grant.path) !== undefined;
  }
}

/** The grants of these users, with their logins. */
async function grantsOfUsers(q: Queryable, userIds: string[]) {
  const { rows } = await q.query<GrantInTree & { userId: string; login: string }>(
    `SELECT u.id AS "userId", u.login, r.name AS "roleName", r.permissions, o.id AS "organisationId", o.path
     FROM role_grants g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id
     JOIN organisations o ON o.id = g.organisation_id
     WHERE g.user_id = ANY($1)`,
    [userIds],
  );
  return rows;
}

/** A caller may change, delete, or set the password of a user only when every grant of
 * that user is within its own: otherwise a scoped administrator could take over an
 * administrator of the whole tree who happens to sit in its sub-tree. */
export async function requireCovered(q: Queryable, caller: Caller, userIds: string[], field: string): Promise<void> {
  if (userIds.length === 0) return;
  const beyond = (await grantsOfUsers(q, userIds)).find((g) => caller.isExceededBy(g));
  if (beyond) {
    throw permissionDenied(
      `user "${beyond.login}" holds the role "${beyond.roleName}" with permissions you do not hold there: only an administrator who holds them can change this user`,
      field,
    );
  }
}

/** Of these users, those the caller may not change (requireCovered, for a batch): each
 * with the first grant that goes beyond the caller's own. */
export async function usersBeyond(q: Queryable, caller: Caller, userIds: string[]): Promise<Map<string, GrantInTree>> {
  const beyond = new Map<string, GrantInTree>();
  if (userIds.length === 0) return beyond;
  for (const g of await grantsOfUsers(q, userIds)) {
    if (!beyond.has(g.userId) && caller.isExceededBy(g)) beyond.set(g.userId, g);
  }
  return beyond;
}
