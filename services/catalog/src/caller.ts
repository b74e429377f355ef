import { ALL_PERMISSIONS, permissionDenied, ROOT_ORGANISATION_ID, unauthenticated, type Authority } from '@assistants/kit';
import { CATALOG_READ, CATALOG_WRITE } from './permissions';

/** The acting user of a call and its grants, asked of identity on every call (a revoked grant
 * stops working at once). The catalog is global: only where a permission is held matters,
 * anywhere (read) or on the root (write). */
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

  private holds(permission: string, onRootOnly: boolean): boolean {
    return this.grants.some(
      (g) =>
        (!onRootOnly || g.organisationId === ROOT_ORGANISATION_ID) &&
        (g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS)),
    );
  }

  /** Reading the catalog: catalog:read held anywhere (catalog:write on the root implies it). */
  requireRead(): this {
    if (!this.holds(CATALOG_READ, false) && !this.holds(CATALOG_WRITE, true)) {
      throw permissionDenied(`this needs the permission ${CATALOG_READ}`);
    }
    return this;
  }

  /** Changing the catalog: catalog:write on the root organisation. */
  requireWrite(): this {
    if (!this.holds(CATALOG_WRITE, true)) {
      throw permissionDenied(`this needs the permission ${CATALOG_WRITE} on the root organisation`);
    }
    return this;
  }
}
