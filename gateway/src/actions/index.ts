import type { ActionDefinition } from './action';
import { assignmentActions } from './assignment';
import { bellCalendarActions } from './bell-calendar';
import { catalogActions } from './catalog';
import { checkingNotifyTemplate, notificationActions } from './notification';
import { statisticsActions } from './statistics';
import { identityUserActions } from './users-identity';

/** Every assistant action the gateway runs, listed by the file that defines them (one per
 * owning service area). The run engine and GET /v1/actions read this list. The assignment and
 * statistics actions that notify check their mail template when a run is validated. */
export const ACTIONS: ActionDefinition[] = [
  ...identityUserActions,
  ...catalogActions,
  ...assignmentActions.map(checkingNotifyTemplate),
  ...notificationActions,
  ...bellCalendarActions,
  ...statisticsActions.map(checkingNotifyTemplate),
];
