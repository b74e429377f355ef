import type { IdentityClient } from '@assistants/identity/client';
import { isId, unauthenticated, type Database, type Outbox } from '@assistants/kit';

/** What bell notifications and calendar events need of the service: the database (reads),
 * the outbox (changes with their events) and identity (users of a batch, scope). */
export interface BellCalendarDeps {
  db: Database;
  outbox: Outbox;
  upstreams: { identity: IdentityClient };
}

/** The calling user, whose own notifications and agenda a call reads. */
export function requireActor(actorId: string): string {
  if (!isId(actorId)) throw unauthenticated('this call needs an acting user');
  return actorId.toLowerCase();
}
