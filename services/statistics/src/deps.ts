import type { Database, Outbox } from '@assistants/kit';
import type { Upstreams } from './upstreams';

/** What the commands work with: the database (reads), the outbox (changes with their
 * events), identity and catalog. */
export interface Deps {
  db: Database;
  outbox: Outbox;
  upstreams: Upstreams;
}
