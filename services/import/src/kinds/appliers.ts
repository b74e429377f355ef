import { organisationsApplier, usersApplier, usersFinisher, type Applier, type Finisher } from './apply';
import { organisationsKind } from './organisations';
import { usersKind } from './users';

/** How the chunks of each kind are applied (a kind without one cannot be imported yet). */
export const APPLIERS: Record<string, Applier> = {
  organisations: organisationsApplier(organisationsKind),
  users: usersApplier(usersKind),
};

/** The last pass of the kinds that have one, after the file's last chunk. */
export const FINISHERS: Record<string, Finisher> = {
  users: usersFinisher,
};
