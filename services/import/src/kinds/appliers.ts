import { organisationsApplier, type Applier } from './apply';
import { organisationsKind } from './organisations';

/** How the chunks of each kind are applied (a kind without one cannot be imported yet). */
export const APPLIERS: Record<string, Applier> = {
  organisations: organisationsApplier(organisationsKind),
};
