import type { ActionDefinition } from './action';
import { assignmentActions } from './assignment';
import { bellCalendarActions } from './bell-calendar';
import { catalogActions } from './catalog';
import { identityUserActions } from './users-identity';

/** Every assistant action the gateway runs, listed by the file that defines them (one per
 * owning service area). The run engine and GET /v1/actions read this list. */
export const ACTIONS: ActionDefinition[] = [...identityUserActions, ...catalogActions, ...assignmentActions, ...bellCalendarActions];
