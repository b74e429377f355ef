import { join } from 'node:path';
import { catalogClient } from '@assistants/catalog/client';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import type { ServiceDefinition } from '@assistants/kit';
import { AssessmentConfigSchema } from './config';
import { STREAM, STREAM_SUBJECTS } from './events';
import { assessmentGrpcServices } from './grpc';
import { ASSESSMENT_PERMISSIONS } from './permissions';
import type { Upstreams } from './upstreams';

/** The assessment service: tests (épreuves) and users' attempts on them, T1 (score editing)
 * and T2 (deleting results). The kit runs it (see main.ts). */
export const assessmentService: ServiceDefinition<(typeof AssessmentConfigSchema)['properties'], Upstreams> = {
  name: 'assessment',
  defaultPort: 50057,
  defaultMetricsPort: 9407,
  config: AssessmentConfigSchema,
  migrations: join(__dirname, '..', 'migrations'),
  stream: { name: STREAM, subjects: STREAM_SUBJECTS },
  permissions: ASSESSMENT_PERMISSIONS,
  upstreams: (config, settings) => {
    const options = { security: settings.security, timeoutMs: config.ASSESSMENT_UPSTREAM_TIMEOUT_MS };
    const identity = identityClient(config.IDENTITY_ADDRESS, options);
    const catalog = catalogClient(config.CATALOG_ADDRESS, options);
    return { identity, catalog, close: () => [identity, catalog].forEach((client) => client.close()) };
  },
  authority: ({ upstreams }) => identityAuthority(upstreams.identity),
  grpc: ({ db, outbox, upstreams, logger }) =>
    assessmentGrpcServices({ db, outbox, upstreams, authority: identityAuthority(upstreams.identity) }, logger),
};
