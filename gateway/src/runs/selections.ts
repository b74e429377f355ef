import { invalidArgument } from '@assistants/kit';
import { Type, type TSchema } from '@sinclair/typebox';
import type { AssistantKind } from '../actions/action';
import { UserSelection } from '../schemas/identity';
import { toProtoSelection } from '../selection';
import type { Upstreams } from '../upstreams';
import { checker, type Checker } from '../validation';

/** Part of a selection resolved into what a run acts on, in resolution order. */
export interface ResolvedItems {
  ids: string[];
  /** What a person recognises each item by (a login, a course's unique id), same order. */
  labels: string[];
}

/** How the selection of one assistant kind ("users") becomes the frozen items of a run. The
 * owning service resolves it in the acting user's scope (the current context's actor), so a
 * run never holds an item its creator may not see. */
export interface SelectionResolver {
  assistant: AssistantKind;
  /** The `selection` of POST /v1/runs for this assistant (shown in GET /v1/actions). */
  schema: TSchema;
  check: Checker<unknown>;
  /** Every item of the selection, page after page (each item once), or INVALID_ARGUMENT
   * ("selection") past `max` items. */
  resolve(upstreams: Upstreams, selection: unknown, max: number): AsyncIterable<ResolvedItems>;
}

/** Users per call: identity's largest page for runs. */
const USER_PAGE = 10_000;

const tooMany = (total: number, max: number, noun: string) =>
  invalidArgument('selection', `the selection holds ${total} ${noun}; a run takes at most ${max}: narrow it or split it`);

/** SEL-1..3: users by ids, filter or list, minus exclusions, walked page by page with
 * identity's ListSelectedUsers (ids and logins, in name order, the count with the first page).
 * A user renamed during the walk could come twice: kept once. */
export const userSelections: SelectionResolver = {
  assistant: 'users',
  schema: Type.Ref(UserSelection),
  check: checker(UserSelection),
  async *resolve(upstreams, selection, max) {
    const request = toProtoSelection(selection as Parameters<typeof toProtoSelection>[0]);
    const seen = new Set<string>();
    let after = '';
    do {
      const page = await upstreams.identity.users.listSelectedUsers({ selection: request, limit: USER_PAGE, after });
      if (page.total > max) throw tooMany(page.total, max, 'users');
      const fresh = page.users.filter((user) => !seen.has(user.id));
      fresh.forEach((user) => seen.add(user.id));
      yield { ids: fresh.map((user) => user.id), labels: fresh.map((user) => user.login) };
      after = page.nextCursor;
    } while (after !== '');
  },
};

/** An assistant whose owning service has no selection yet: a run of it is refused, naming
 * why, rather than failing later. */
function notAvailableYet(assistant: AssistantKind): SelectionResolver {
  const schema = Type.Object({}, { additionalProperties: true, description: `not available yet` });
  return {
    assistant,
    schema,
    check: (value) => value,
    // eslint-style generators need a yield; this one refuses before any.
    resolve: () => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(invalidArgument('assistant', `selections of ${assistant} are not available yet`)),
      }),
    }),
  };
}

/** The resolver of every assistant kind. Courses and curricula come with the catalog
 * service's selections. */
export const SELECTION_RESOLVERS: Record<AssistantKind, SelectionResolver> = {
  users: userSelections,
  courses: notAvailableYet('courses'),
  curricula: notAvailableYet('curricula'),
};
