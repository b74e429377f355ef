import { checkIds, invalidArgument } from '@assistants/kit';
import type { IdentityClient } from '@assistants/identity/client';

/** Audiences are identity's: the catalog keeps their ids and asks identity whether they
 * exist and which ones a name matches, on behalf of the call's acting user. */
export interface Audiences {
  /** The ids, checked (each once, lower case); INVALID_ARGUMENT `<field>[i]` for the first
   * one identity does not know. */
  requireExisting(field: string, ids: string[]): Promise<string[]>;
  /** The ids of every audience whose name contains `text` (case-insensitive). */
  idsNamedLike(text: string): Promise<string[]>;
}

const PAGE = 500;

export function identityAudiences(identity: IdentityClient): Audiences {
  return {
    async requireExisting(field, ids) {
      const checked = checkIds(field, ids);
      const known = new Set<string>();
      for (let i = 0; i < checked.length; i += PAGE) {
        const chunk = checked.slice(i, i + PAGE);
        const { audiences } = await identity.audiences.listAudiences({
          query: '',
          ids: chunk,
          page: { limit: PAGE, offset: 0, after: '' },
        });
        for (const a of audiences) known.add(a.id);
      }
      const missing = ids.findIndex((id) => !known.has(id.toLowerCase()));
      if (missing >= 0) throw invalidArgument(`${field}[${missing}]`, `${field}[${missing}]: no audience with id ${ids[missing]}`);
      return checked;
    },
    async idsNamedLike(text) {
      const ids: string[] = [];
      for (let offset = 0; ; offset += PAGE) {
        const { audiences, total } = await identity.audiences.listAudiences({
          query: text,
          ids: [],
          page: { limit: PAGE, offset, after: '' },
        });
        ids.push(...audiences.map((a) => a.id));
        if (offset + PAGE >= total || audiences.length === 0) return ids;
      }
    },
  };
}
