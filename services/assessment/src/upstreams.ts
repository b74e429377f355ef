import type { CatalogClient } from '@assistants/catalog/client';
import type { IdentityClient } from '@assistants/identity/client';

/** The services the assessment service asks: identity (grants, users, the organisations of
 * tests) and catalog (the course and lesson that play a test). */
export interface Upstreams {
  identity: IdentityClient;
  catalog: CatalogClient;
}
