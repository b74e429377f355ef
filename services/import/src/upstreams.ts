import type { AssignmentClient } from '@assistants/assignment/client';
import type { IdentityClient } from '@assistants/identity/client';
import type { NotificationClient } from '@assistants/notification/client';

/** The services the import service asks: identity (grants; the organisations and users
 * chunks); notification (welcome mails; the notify templates of assignment imports);
 * assignment (the course and curriculum assignment chunks). */
export interface Upstreams {
  identity: IdentityClient;
  notification: NotificationClient;
  assignment: AssignmentClient;
}
