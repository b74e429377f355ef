import type { KindDeclaration } from '../engine/columns';
import { organisationsKind } from './organisations';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** Every import kind, by its name in the routes. */
export const KINDS: Record<string, KindDeclaration> = {
  organisations: organisationsKind,
  users: usersKind,
  'static-lists': staticListsKind,
};
