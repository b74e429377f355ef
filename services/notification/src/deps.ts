import type { Database, Outbox } from '@assistants/kit';
import type { NotificationConfig } from './config';
import type { Upstreams } from './upstreams';

/** What the commands work with. */
export interface Deps {
  db: Database;
  outbox: Outbox;
  upstreams: Upstreams;
  config: NotificationConfig;
  /** Tells this replica's sender that mails were queued (it also polls). */
  poke(): void;
}
