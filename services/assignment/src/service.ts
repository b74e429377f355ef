import { join } from 'node:path';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceContext, ServiceDefinition } from '@assistants/kit';
import { AssignmentConfigSchema, type AssignmentConfig } from './config';
import type { Deps } from './deps';
import { STREAM, STREAM_SUBJECTS } from './events';
import { assignmentGrpcServices } from './grpc';
import { listEnrolmentConsumer } from './list-enrolment';
import { ASSIGNMENT_PERMISSIONS } from './permissions';

/** One set of clients per running service (the kit hands the same context to authority(),
 * grpc() and consumers()). */
const running = new WeakMap<object, Deps>();
function depsOf({ config, settings, db, outbox }: ServiceContext<AssignmentConfig>): Deps {
  let deps = running.get(config);
  if (!deps) {
    const options = { security: settings.security, timeoutMs: config.ASSIGNMENT_UPSTREAM_TIMEOUT_MS };
    deps = {
      db,
      outbox,
      upstreams: { identity: identityClient(config.IDENTITY_ADDRESS, options), catalog: catalogClient(config.CATALOG_ADDRESS, options) },
    };
    running.set(config, deps);
  }
  return deps;
}

/** The assignment service: course and curriculum assignments, certificates, tutors, access
 * properties and the visibility they give. Identity is its authority and knows users and
 * lists; the catalogue knows courses and curricula. The kit runs it (see main.ts). */
export const assignmentService: ServiceDefinition<(typeof AssignmentConfigSchema)['properties']> = {
  name: 'assignment',
  defaultPort: 50053,
  config: AssignmentConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: ASSIGNMENT_PERMISSIONS,
  authority: (context) => identityAuthority(depsOf(context).upstreams.identity),
  grpc: (context) => assignmentGrpcServices(depsOf(context), context.logger),
  consumers: (context) => [listEnrolmentConsumer(depsOf(context), context.logger)],
};
