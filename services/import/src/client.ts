import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { ImportServiceClient } from '@assistants/proto/gen/import/v1/imports';

/** Promise client of the import service at `address`. Calls carry the service token and the
 * current context's acting user (see the kit's context.ts). */
export function importClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const imports = grpcClient(ImportServiceClient, address, { ...options, serviceName: 'import' });
  return { imports, address, close: () => imports.close() };
}

export type ImportClient = ReturnType<typeof importClient>;
