import type { AssignmentClient } from '@assistants/assignment/client';
import type { CatalogClient } from '@assistants/catalog/client';
import type { IdentityClient } from '@assistants/identity/client';
import type { NotificationClient } from '@assistants/notification/client';
import type { StatisticsClient } from '@assistants/statistics/client';

/** The services the import service asks: identity (grants; the organisations and users
 * chunks); notification (welcome mails; the notify templates of assignment imports);
 * assignment (the course and curriculum assignment chunks; the courses a statistics import
 * assigns); statistics (the I5, I6, I9 chunks); catalog (the I8 chunks). */
export interface Upstreams {
  identity: IdentityClient;
  notification: NotificationClient;
  statistics: StatisticsClient;
  assignment: AssignmentClient;
  catalog: CatalogClient;
}
