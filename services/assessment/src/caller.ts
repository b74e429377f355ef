import { requireUserInScope } from '@assistants/identity/client';
import { ALL_PERMISSIONS, notFound, permissionDenied, unauthenticated, type Authority } from '@assistants/kit';
import type { Deps } from './deps';

/** The acting user of a call and its grants, asked of identity on every call (a revoked grant
 * stops working at once). A test lies in the scope of a permission when the caller holds it
 * on the test's organisation or one of its ancestors (tests.organisation_path). */
export class Caller {
  private constructor(
    readonly userId: string,
    private readonly grants: { organisationId: string; permissions: string[] }[],
  ) {}

  static async load(authority: Authority, actorId: string): Promise<Caller> {
    if (!actorId) throw unauthenticated('this call needs an acting user');
    const { grants } = await authority.principal(actorId);
    return new Caller(actorId, grants);
  }

  /** The organisations whose sub-trees the caller holds `permission` on; PERMISSION_DENIED
   * when it holds it nowhere. */
  scope(permission: string): string[] {
    const ids = this.grants
      .filter((g) => g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS))
      .map((g) => g.organisationId.toLowerCase());
    if (ids.length === 0) throw permissionDenied(`this needs the permission ${permission}`);
    return [...new Set(ids)];
  }

  /** Whether a test at this organisation path lies in the scope of `permission`. */
  covers(permission: string, organisationPath: string[]): boolean {
    const scope = this.scope(permission);
    return organisationPath.some((id) => scope.includes(id.toLowerCase()));
  }
}

/** The test's organisation path if the caller holds `permission` there; NOT_FOUND otherwise
 * (a scoped administrator learns nothing of tests outside its scope). */
export function requireTestInScope(
  caller: Caller,
  permission: string,
  test: { id: string; organisation_path: string[] } | undefined,
  id: string,
) {
  if (!test || !caller.covers(permission, test.organisation_path)) throw notFound(`no test with id ${id}`, 'testId');
  return test;
}

/** The user whose attempts these are, if the caller holds `permission` on them (NOT_FOUND
 * otherwise, as identity's own routes answer). */
export const requireUser = (deps: Deps, userId: string, permission: string) =>
  requireUserInScope(deps.upstreams.identity, userId, permission);
