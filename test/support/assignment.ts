import { assignmentService } from '@assistants/assignment';
import { assignmentClient, type AssignmentClient } from '@assistants/assignment/client';
import { TEST_SECURITY } from './identity';
import {
  serviceEnvironment,
  startServiceProcess,
  startTestService,
  type ServiceProcess,
  type TestService,
  type TestServiceOptions,
} from './service';

export interface AssignmentOptions extends TestServiceOptions {
  identityAddress: string;
  catalogAddress: string;
}

function environment(options: AssignmentOptions, port: number): Record<string, string> {
  return serviceEnvironment('assignment', options, port, {
    IDENTITY_ADDRESS: options.identityAddress,
    CATALOG_ADDRESS: options.catalogAddress,
  });
}

/** The assignment service, started in-process on a free port (or `port`), on a real NATS
 * server and PostgreSQL database (its own schema "assignment": it may share identity's
 * database), with identity and catalog at the given addresses. */
export function startAssignment(options: AssignmentOptions): Promise<TestAssignment> {
  return startTestService({
    definition: assignmentService,
    env: (port) => environment(options, port),
    client: (address) => assignmentClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export type TestAssignment = TestService<AssignmentClient>;
export type AssignmentProcess = ServiceProcess<AssignmentClient>;

/** The assignment service as a process of its own, so that a test can kill it (SIGKILL)
 * mid-run and start it again on the same port. */
export function startAssignmentProcess(options: AssignmentOptions): Promise<AssignmentProcess> {
  return startServiceProcess({
    name: 'assignment',
    env: (port) => environment(options, port),
    client: (address) => assignmentClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export { assignmentClient, type AssignmentClient };
