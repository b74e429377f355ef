import { importService } from '@assistants/import';
import { importClient, type ImportClient } from '@assistants/import/client';
import { TEST_SECURITY } from './identity';
import {
  serviceEnvironment,
  startServiceProcess,
  startTestService,
  type ServiceProcess,
  type TestService,
  type TestServiceOptions,
} from './service';

export interface ImportOptions extends TestServiceOptions {
  identityAddress: string;
  /** The notification service (welcome mails); none by default. */
  notificationAddress?: string;
  /** The statistics service (I5, I6, I9); none by default. */
  statisticsAddress?: string;
  /** The assignment service (I3, I4; the courses a statistics import assigns); none by default. */
  assignmentAddress?: string;
  /** The catalog service (I8); none by default. */
  catalogAddress?: string;
}

/** The key tests seal the welcome passwords of a chunk with. */
export const TEST_IMPORT_SECRET_KEY = 'test-import-secret-key-0123456789abcdefghij';

function environment(options: ImportOptions, port: number): Record<string, string> {
  return serviceEnvironment('import', options, port, {
    IDENTITY_ADDRESS: options.identityAddress,
    IMPORT_SECRET_KEY: TEST_IMPORT_SECRET_KEY,
    NOTIFICATION_ADDRESS: options.notificationAddress,
    STATISTICS_ADDRESS: options.statisticsAddress,
    ASSIGNMENT_ADDRESS: options.assignmentAddress,
    CATALOG_ADDRESS: options.catalogAddress,
    // Tests wait for jobs: poll often, take a killed replica's job over soon.
    IMPORT_WORKER_POLL_MS: '50',
    IMPORT_LEASE_SECONDS: '2',
  });
}

export type TestImport = TestService<ImportClient>;
export type ImportProcess = ServiceProcess<ImportClient>;

/** The import service, started in-process on a free port (or `port`), on a real NATS server
 * and PostgreSQL database (its own schema "import": it may share identity's database), with
 * identity at `identityAddress`. */
export function startImport(options: ImportOptions): Promise<TestImport> {
  return startTestService({
    definition: importService,
    env: (port) => environment(options, port),
    client: (address) => importClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

/** The import service as a process of its own, so that a test can kill it (SIGKILL) in the
 * middle of a job and start it again. */
export function startImportProcess(options: ImportOptions): Promise<ImportProcess> {
  return startServiceProcess({
    name: 'import',
    env: (port) => environment(options, port),
    client: (address) => importClient(address, { security: options.security ?? TEST_SECURITY }),
    port: options.port,
  });
}

export { importClient, type ImportClient };
