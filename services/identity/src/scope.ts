import { type Params, ROOT_ORGANISATION_ID } from '@assistants/kit';

/** The tree path of the root organisation: a grant there holds everywhere. */
export const ROOT_PATH = `/${ROOT_ORGANISATION_ID}/`;

/** Where a request may look: the sub-trees of some organisations (by their tree paths), or
 * everything. Built by Caller from the acting user's grants for one permission. */
export class ResolvedScope {
  private constructor(
    readonly all: boolean,
    /** Paths of the scope's organisations, none inside another. */
    readonly paths: string[],
  ) {}

  static readonly everything = new ResolvedScope(true, []);

  /** The sub-trees of the organisations at these paths (everything when the root is one). */
  static of(paths: string[]): ResolvedScope {
    if (paths.includes(ROOT_PATH)) return ResolvedScope.everything;
    return new ResolvedScope(
      false,
      [...new Set(paths)].filter((p) => !paths.some((other) => other !== p && p.startsWith(other))),
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
