import { importService } from '@assistants/import';
import { importClient, type ImportClient } from '@assistants/import/client';
import type { GrpcSecurity } from '@assistants/kit';
import { TEST_SECURITY } from './identity';
import type { TestNats } from './nats';
import type { TestDatabase } from './postgres';
import { startServiceProcess, startTestService, type ServiceProcess, type TestService } from './service';

export interface ImportOptions {
  nats?: TestNats;
  natsUrl?: string;
  pg?: TestDatabase;
  databaseUrl?: string;
  identityAddress: string;
  /** The notification service (welcome mails); none by default. */
  notificationAddress?: string;
  port?: number;
  env?: Record<string, string>;
  security?: GrpcSecurity;
}

function environment(options: ImportOptions, port: number): Record<string, string> {
  const natsUrl = options.natsUrl ?? options.nats?.url;
  const databaseUrl = options.databaseUrl ?? options.pg?.url;
  if (!natsUrl || !databaseUrl) throw new Error('the import service needs nats (or natsUrl) and pg (or databaseUrl)');
  return {
    ASSISTANTS_SERVICE_TOKEN: (options.security ?? TEST_SECURITY).serviceToken,
    IMPORT_GRPC_PORT: String(port),
    IMPORT_DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    IDENTITY_ADDRESS: options.identityAddress,
    ...(options.notificationAddress ? { NOTIFICATION_ADDRESS: options.notificationAddress } : {}),
    // Tests wait for jobs: poll often, take a killed replica's job over soon.
    IMPORT_WORKER_POLL_MS: '50',
    IMPORT_LEASE_SECONDS: '2',
    ...options.env,
  };
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
