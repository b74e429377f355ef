import type { IdentityClient } from '@assistants/identity/client';
import type { AssignmentClient } from '@assistants/assignment/client';
import type { NotificationClient } from '@assistants/notification/client';
import type { StatisticsClient } from '@assistants/statistics/client';

/** The services the import service asks: identity (grants; the organisations and users
 * chunks); notification (welcome mails); statistics (the I5, I6, I9 chunks); assignment (the
 * courses a statistics import assigns). */
export interface Upstreams {
  identity: IdentityClient;
  notification: NotificationClient;
  statistics: StatisticsClient;
  assignment: AssignmentClient;
}
