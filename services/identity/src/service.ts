import { join } from 'node:path';
import type { ServiceDefinition } from '@assistants/kit';
import { ensureBootstrapAdmin } from './bootstrap';
import { Caller } from './caller';
import { IdentityConfigSchema } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { identityGrpcServices } from './grpc';
import { IDENTITY_PERMISSIONS, registerPermissions } from './permissions';

/** The identity service: organisations, users, passwords, audiences, roles and their
 * scopes, lists, user search. The kit runs it (see main.ts). */
export const identityService: ServiceDefinition<(typeof IdentityConfigSchema)['properties']> = {
  name: 'identity',
  defaultPort: 50051,
  defaultMetricsPort: 9401,
  config: IdentityConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  extensions: ['pg_trgm'],
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: IDENTITY_PERMISSIONS,
  // Identity is the authority: it answers from its own tables.
  authority: ({ db }) => ({
    principal: (actorId) => Caller.load(db, actorId),
    registerPermissions: (service, permissions) => db.transaction((tx) => registerPermissions(tx, service, permissions)),
  }),
  grpc: identityGrpcServices,
  async beforeStart({ outbox, logger, config }) {
    if (config.IDENTITY_BOOTSTRAP_ADMIN_LOGIN && config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD) {
      await ensureBootstrapAdmin(outbox, logger, config.IDENTITY_BOOTSTRAP_ADMIN_LOGIN, config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD);
    }
  },
};
