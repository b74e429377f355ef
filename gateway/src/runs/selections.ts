import { invalidArgument } from '@assistants/kit';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { AssistantKind } from '../actions/action';
import { walkCourseSelection, walkCurriculumSelection } from '../catalog-selection';
import { CourseSelection, CurriculumSelection } from '../schemas/catalog';
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

/** Courses by ids or filter, minus exclusions, walked with the catalog's cursor. */
export const courseSelections: SelectionResolver = {
  assistant: 'courses',
  schema: Type.Ref(CourseSelection),
  check: checker(CourseSelection),
  resolve: (upstreams, selection, max) => walkCourseSelection(upstreams.catalog, selection as Static<typeof CourseSelection>, max),
};

/** Curricula by ids or filter, minus exclusions, walked with the catalog's cursor. */
export const curriculumSelections: SelectionResolver = {
  assistant: 'curricula',
  schema: Type.Ref(CurriculumSelection),
  check: checker(CurriculumSelection),
  resolve: (upstreams, selection, max) => walkCurriculumSelection(upstreams.catalog, selection as Static<typeof CurriculumSelection>, max),
};

/** The resolver of every assistant kind. */
export const SELECTION_RESOLVERS: Record<AssistantKind, SelectionResolver> = {
  users: userSelections,
  courses: courseSelections,
  curricula: curriculumSelections,
};
