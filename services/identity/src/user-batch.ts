import { DomainError, invalidArgument, isId, itemResult, Params, type Queryable } from '@assistants/kit';
import type { ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { usersBeyond, type Caller } from './caller';
import type { ResolvedScope } from './scope';
import type { UserRow } from './users.repo';

/** A batch of a run is about a thousand users; a few times that stays one cheap statement. */
export const MAX_BATCH_USERS = 5_000;

/** A user of a batch the caller may act on, locked until the batch commits. */
export type BatchTarget = UserRow & { organisation_path: string };

/**
 * The users of one batch (user ids as items), each either decided already (FAILED: unknown,
 * outside the scope of `permission`, holding more rights than the caller, externally
 * managed) or a target the command decides on. Results come back in the order of the items
 * (each id once), under the id as the caller gave it.
 */
export class UserBatch {
  private readonly decided = new Map<string, ItemResult>();

  private constructor(
    /** The items, each once, as given. */
    private readonly items: string[],
    /** The item as given, by user id (lower case). */
    private readonly given: Map<string, string>,
    readonly targets: BatchTarget[],
  ) {}

  /** Loads and locks the users of `userIds` (in id order, so that two batches never wait on
   * each other in a cycle) and decides those the caller may not act on. `covered`: the
   * caller must hold every grant of the user (as UpdateUser asks); `externallyManaged`:
   * users kept by an import change only with users:write-external. */
  static async load(
    tx: Queryable,
    caller: Caller,
    scope: ResolvedScope,
    userIds: string[],
    checks: { covered?: boolean; externallyManaged?: boolean } = {},
  ): Promise<UserBatch> {
    if (userIds.length > MAX_BATCH_USERS) {
      throw invalidArgument('userIds', `at most ${MAX_BATCH_USERS} users per batch, got ${userIds.length}`);
    }
    const items = [...new Set(userIds)];
    const given = new Map(items.filter(isId).map((id) => [id.toLowerCase(), id]));
    const p = new Params();
    const { rows } = await tx.query<BatchTarget & { in_scope: boolean }>(
      `SELECT u.*, o.path AS organisation_path, ${scope.pathCondition(p, 'o.path')} AS in_scope
       FROM users u JOIN organisations o ON o.id = u.organisation_id
       WHERE u.id = ANY(${p.add([...given.keys()])}::uuid[]) ORDER BY u.id FOR UPDATE OF u`,
      p.values,
    );
    const batch = new UserBatch(
      items,
      given,
      rows.filter((r) => r.in_scope),
    );
    for (const r of rows) {
      if (!r.in_scope) batch.fail(r.id, 'OUT_OF_SCOPE', 'this user is outside your scope');
    }
    if (checks.covered) {
      for (const [id, grant] of await usersBeyond(
        tx,
        caller,
        batch.targets.map((t) => t.id),
      )) {
        batch.fail(id, 'USER_HOLDS_MORE_RIGHTS', `this user holds the role "${grant.roleName}" with permissions you do not hold there`);
      }
    }
    if (checks.externallyManaged) {
      for (const t of batch.targets) {
        if (t.externally_managed && !caller.holds('users:write-external', t.organisation_path)) {
          batch.fail(t.id, 'EXTERNALLY_MANAGED', 'this user is managed by an external system: it changes through its import');
        }
      }
    }
    return batch;
  }

  /** The targets not decided yet. */
  get open(): BatchTarget[] {
    return this.targets.filter((t) => !this.decided.has(t.id));
  }

  succeed(userId: string, message = ''): void {
    this.decided.set(userId, itemResult.succeeded(this.itemOf(userId), '', message));
  }

  unchanged(userId: string, code: string, message: string): void {
    this.decided.set(userId, itemResult.unchanged(this.itemOf(userId), '', code, message));
  }

  fail(userId: string, code: string, message: string): void {
    this.decided.set(userId, itemResult.failed(this.itemOf(userId), '', code, message));
  }

  /** One result per item; an item decided by nothing is a user that does not exist. */
  results(): ItemResult[] {
    return this.items.map((item) => {
      const decided = isId(item) ? this.decided.get(item.toLowerCase()) : undefined;
      return decided ?? itemResult.failed(item, '', 'NOT_FOUND', 'no such user');
    });
  }

  private itemOf(userId: string): string {
    return this.given.get(userId) ?? userId;
  }
}

/** A parameter that names something missing is a bad parameter of the action (a 400 when
 * the run is validated), not a missing resource of the call. */
export async function asParameter<T>(check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'NOT_FOUND') throw invalidArgument(err.field ?? '', err.message);
    throw err;
  }
}
