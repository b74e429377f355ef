import { assessmentService } from '@assistants/assessment';
import { assessmentClient, type AssessmentClient } from '@assistants/assessment/client';
import { TEST_SECURITY } from './identity';
import { serviceEnvironment, startTestService, type TestService, type TestServiceOptions } from './service';

export interface AssessmentOptions extends TestServiceOptions {
  identityAddress: string;
  catalogAddress: string;
}

/** The assessment service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "assessment"), with identity and catalog at
 * the given addresses. */
export function startAssessment(options: AssessmentOptions): Promise<TestAssessment> {
  return startTestService({
    definition: assessmentService,
    env: (port) =>
      serviceEnvironment('assessment', options, port, {
        IDENTITY_ADDRESS: options.identityAddress,
        CATALOG_ADDRESS: options.catalogAddress,
      }),
    client: (address) => assessmentClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export type TestAssessment = TestService<AssessmentClient>;

export { assessmentClient, type AssessmentClient };
