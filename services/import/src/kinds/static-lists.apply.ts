import { withContext } from '@assistants/kit';
import type { KindDeclaration } from '../engine/columns';
import { header as batchHeader, outcomesOf, type Applier } from './apply';

/** I7: a chunk's rows go to identity as they are; identity creates the missing lists. A dry
 * run needs nothing of its earlier chunks: a list one of them would have created is created
 * again in the chunk's own rolled-back transaction, with the same owner and the same checks. */
export const staticListsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const { result } = await withContext({ actorId: call.actorId }, () =>
      upstreams.identity.imports.importListMembers({
        batch: batchHeader(call),
        rows: call.rows.map((r) => ({ itemId: String(r.line), user: r.values.user as string, listName: r.values.listName as string })),
        matchOn: call.options.matchOn === 'login' ? 'login' : 'ext_id',
      }),
    );
    return outcomesOf(kind, call.rows, result!.results);
  };
