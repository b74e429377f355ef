import type { IdentityClient } from '@assistants/identity/client';

/** The services the import service asks: identity (grants; the organisations and users
 * chunks). */
export interface Upstreams {
  identity: IdentityClient;
}
