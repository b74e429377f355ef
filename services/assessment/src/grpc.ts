import type * as grpc from '@grpc/grpc-js';
import { implement, type Logger } from '@assistants/kit';
import { AttemptServiceService, type AttemptServiceServer } from '@assistants/proto/gen/assessment/v1/attempts';
import { PrintServiceService, type PrintServiceServer } from '@assistants/proto/gen/assessment/v1/print';
import { TestServiceService, type TestServiceServer } from '@assistants/proto/gen/assessment/v1/tests';
import { deleteAttempt, editAttemptScores, getAttempt, listAttempts, recordAttempt } from './attempts';
import type { Deps } from './deps';
import { printTests } from './print-tests';
import { QtiServiceService, type QtiServiceServer } from '@assistants/proto/gen/assessment/v1/qti';
import { exportTestQti } from './qti/command';
import { PackageServiceService, type PackageServiceServer } from '@assistants/proto/gen/assessment/v1/packages';
import { getPackage, publishTests } from './publish/publish';
import { createTest, getTest, resolveTestSelection, searchTests, updateTest } from './tests';

/** The assessment service's gRPC services: each handler hands the request to its command,
 * which asks identity for the acting user's grants and decides. */
export function assessmentGrpcServices(deps: Deps, logger: Logger): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const tests = implement<TestServiceServer>(logger, {
    createTest: async (req, { actorId }) => ({ test: await createTest(deps, actorId, req) }),
    updateTest: async (req, { actorId }) => ({ test: await updateTest(deps, actorId, req) }),
    getTest: async (req, { actorId }) => ({ test: await getTest(deps, actorId, req.id) }),
    searchTests: (req, { actorId }) => searchTests(deps, actorId, req),
    resolveTestSelection: (req, { actorId }) => resolveTestSelection(deps, actorId, req),
  });
  const attempts = implement<AttemptServiceServer>(logger, {
    recordAttempt: async (req, { actorId }) => ({ attempt: await recordAttempt(deps, actorId, req) }),
    getAttempt: async (req, { actorId }) => ({ attempt: await getAttempt(deps, actorId, req.id) }),
    listAttempts: async (req, { actorId }) => ({ attempts: await listAttempts(deps, actorId, req) }),
    editAttemptScores: async (req, { actorId }) => ({ attempt: await editAttemptScores(deps, actorId, req) }),
    deleteAttempt: async (req, { actorId }) => {
      await deleteAttempt(deps, actorId, req);
      return {};
    },
  });
  // T3: tests into one PDF.
  const print = implement<PrintServiceServer>(logger, { printTests: (req, { actorId }) => printTests(deps, actorId, req) });
  // T5: a test as an IMS QTI 2.1 package.
  const qti = implement<QtiServiceServer>(logger, {
    exportTestQti: (req, { actorId }) => exportTestQti(deps, actorId, req.id),
  });
  // T4, LMS publication.
  const packages = implement<PackageServiceServer>(logger, {
    publishTests: async (req, { actorId }) => ({ package: await publishTests(deps, actorId, req) }),
    getPackage: (req, { actorId }) => getPackage(deps, actorId, req.id),
  });
  return [
    [TestServiceService, tests],
    [AttemptServiceService, attempts],
    [PrintServiceService, print],
    [QtiServiceService, qti],
    [PackageServiceService, packages],
  ];
}
