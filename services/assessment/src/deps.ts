import type { Authority, Database, Outbox } from '@assistants/kit';
import type { Upstreams } from './upstreams';

/** What the commands work with. */
export interface Deps {
  db: Database;
  outbox: Outbox;
  upstreams: Upstreams;
  authority: Authority;
}
