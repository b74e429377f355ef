import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { CourseServiceClient } from '@assistants/proto/gen/catalog/v1/courses';
import { CurriculumServiceClient } from '@assistants/proto/gen/catalog/v1/curricula';
import { SessionServiceClient } from '@assistants/proto/gen/catalog/v1/sessions';
import { StructureServiceClient } from '@assistants/proto/gen/catalog/v1/structure';

/** Promise clients of every catalog gRPC service at `address`. Calls carry the service token
 * and the current context's acting user (see the kit's context.ts): the catalog decides from
 * that user's grants (GetCourses and GetCurricula need no acting user). */
export function catalogClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'catalog' };
  const clients = {
    courses: grpcClient(CourseServiceClient, address, settings),
    curricula: grpcClient(CurriculumServiceClient, address, settings),
    structure: grpcClient(StructureServiceClient, address, settings),
    // Instructor-led sessions (I8).
    sessions: grpcClient(SessionServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type CatalogClient = ReturnType<typeof catalogClient>;
