import type { IdentityClient } from '@assistants/identity/client';
import type { NotificationClient } from '@assistants/notification/client';

/** The services the import service asks: identity (grants; the organisations and users
 * chunks); notification (welcome mails). */
export interface Upstreams {
  identity: IdentityClient;
  notification: NotificationClient;
}
