import type { IdentityClient } from '@assistants/identity/client';

/** The services the notification service asks: identity (grants, the users a mail goes to). */
export interface Upstreams {
  identity: IdentityClient;
}
