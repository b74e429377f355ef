import { organisationsApplier, usersApplier, type Applier } from './apply';
import { organisationsKind } from './organisations';
import { staticListsApplier } from './static-lists.apply';
import { staticListsKind } from './static-lists';
import { usersKind } from './users';

/** How the chunks of each kind are applied (a kind without one cannot be imported yet). */
export const APPLIERS: Record<string, Applier> = {
  organisations: organisationsApplier(organisationsKind),
  users: usersApplier(usersKind),
  'static-lists': staticListsApplier(staticListsKind),
};
