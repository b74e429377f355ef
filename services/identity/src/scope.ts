import { invalidArgument, type Queryable } from '@assistants/kit';
import type { Scope } from '@assistants/proto/gen/identity/v1/common';
import type { Params } from './sql';
import { checkIds } from './validation';

/** A request's scope, with the tree paths of its organisations looked up once. */
export class ResolvedScope {
  private constructor(
    readonly all: boolean,
    /** Paths of the scope's organisations, none inside another. */
    readonly paths: string[],
  ) {}

  static readonly everything = new ResolvedScope(true, []);

  static async resolve(q: Queryable, scope: Scope | undefined): Promise<ResolvedScope> {
    if (!scope) throw invalidArgument('scope', 'scope is required');
    if (scope.all) return ResolvedScope.everything;
    const ids = checkIds('scope.organisationIds', scope.organisationIds);
    const { rows } = await q.query<{ path: string }>('SELECT path FROM organisations WHERE id = ANY($1)', [ids]);
    const paths = rows.map((r) => r.path);
    return new ResolvedScope(
      false,
      paths.filter((p) => !paths.some((other) => other !== p && p.startsWith(other))),
    );
  }

  /** Whether an organisation with this path lies in the scope. */
  includesPath(path: string): boolean {
    return this.all || this.paths.some((p) => path.startsWith(p));
  }

  /** SQL condition: the organisation path `pathColumn` lies in the scope. */
  pathCondition(p: Params, pathColumn: string): string {
    if (this.all) return 'TRUE';
    if (this.paths.length === 0) return 'FALSE';
    return `${pathColumn} LIKE ANY(${p.add(this.paths.map((path) => `${path}%`))})`;
  }

  /** SQL condition: the user `alias` belongs to an organisation in the scope. */
  userCondition(p: Params, alias: string): string {
    if (this.all) return 'TRUE';
    return `${alias}.organisation_id IN (SELECT so.id FROM organisations so WHERE ${this.pathCondition(p, 'so.path')})`;
  }
}
