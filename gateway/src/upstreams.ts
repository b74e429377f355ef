import type { AssignmentClient } from '@assistants/assignment/client';
import type { CatalogClient } from '@assistants/catalog/client';
import type { IdentityClient } from '@assistants/identity/client';
import type { NotificationClient } from '@assistants/notification/client';
import type { StatisticsClient } from '@assistants/statistics/client';

/** The gRPC clients of the services the gateway talks to (built once in gateway.ts). Each
 * service adds its client here. */
export interface Upstreams {
  identity: IdentityClient;
  catalog: CatalogClient;
  assignment: AssignmentClient;
  notification: NotificationClient;
  statistics: StatisticsClient;
}
