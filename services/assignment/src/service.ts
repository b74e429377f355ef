import { join } from 'node:path';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceDefinition } from '@assistants/kit';
import { AssignmentConfigSchema } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { assignmentGrpcServices } from './grpc';
import { listEnrolmentConsumer } from './list-enrolment';
import { ASSIGNMENT_PERMISSIONS } from './permissions';
import type { Upstreams } from './upstreams';

/** The assignment service: course and curriculum assignments, certificates, tutors, access
 * properties and the visibility they give. Identity is its authority and knows users and
 * lists; the catalogue knows courses and curricula. The kit runs it (see main.ts). */
export const assignmentService: ServiceDefinition<(typeof AssignmentConfigSchema)['properties'], Upstreams> = {
  name: 'assignment',
  defaultPort: 50053,
  defaultMetricsPort: 9403,
  config: AssignmentConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: ASSIGNMENT_PERMISSIONS,
  upstreams: (config, settings) => {
    const options = { security: settings.security, timeoutMs: config.ASSIGNMENT_UPSTREAM_TIMEOUT_MS };
    const identity = identityClient(config.IDENTITY_ADDRESS, options);
    const catalog = catalogClient(config.CATALOG_ADDRESS, options);
    return { identity, catalog, close: () => [identity, catalog].forEach((client) => client.close()) };
  },
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  grpc: ({ db, outbox, upstreams, logger }) => assignmentGrpcServices({ db, outbox, upstreams }, logger),
  consumers: ({ db, outbox, upstreams, logger }) => [listEnrolmentConsumer({ db, outbox, upstreams }, logger)],
};
