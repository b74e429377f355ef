import type * as grpc from '@grpc/grpc-js';
import { implement, type Logger } from '@assistants/kit';
import { ExportServiceService, type ExportServiceServer } from '@assistants/proto/gen/statistics/v1/exports';
import { StatisticsImportServiceService, type StatisticsImportServiceServer } from '@assistants/proto/gen/statistics/v1/imports';
import { ProgressServiceService, type ProgressServiceServer } from '@assistants/proto/gen/statistics/v1/progress';
import { setCompetencyScores } from './competencies';
import type { Deps } from './deps';
import { getExport, readExportChunk, startExport } from './export/jobs';
import {
  findUnassignedCourses,
  importCourseStatistics,
  importExternalTrainings,
  importLessonStatistics,
  listExternalTrainings,
} from './imports';
import { setLessonProgress } from './lesson-progress';
import { mergeUserProgress } from './merge';
import { getUserProgress } from './reads';
import { resetCourses, resetCurricula } from './resets';

/** The statistics service's gRPC services: each handler hands the request to its command
 * (which checks the acting user's rights through identity) and wraps the answer. */
export function statisticsGrpcServices(
  deps: Deps & { poke(): void },
  logger: Logger,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const progress = implement<ProgressServiceServer>(logger, {
    resetCourses: async (req) => ({ result: await resetCourses(deps, req) }),
    resetCurricula: async (req) => ({ result: await resetCurricula(deps, req) }),
    setCompetencyScores: async (req) => ({ result: await setCompetencyScores(deps, req) }),
    setLessonProgress: async (req) => ({ result: await setLessonProgress(deps, req) }),
    getUserProgress: (req) => getUserProgress(deps, req.userId),
    mergeUserProgress: async (req) => ({ result: await mergeUserProgress(deps, req) }),
    listExternalTrainings: (req) => listExternalTrainings(deps, req.userId),
  });
  const imports = implement<StatisticsImportServiceServer>(logger, {
    importLessonStatistics: async (req) => ({ result: await importLessonStatistics(deps, req) }),
    importCourseStatistics: async (req) => ({ result: await importCourseStatistics(deps, req) }),
    importExternalTrainings: async (req) => ({ result: await importExternalTrainings(deps, req) }),
    findUnassignedCourses: (req) => findUnassignedCourses(deps, req),
  });
  const exports = implement<ExportServiceServer>(logger, {
    startExport: async (req, { actorId }) => ({ job: await startExport(deps, req, actorId) }),
    getExport: async (req, { actorId }) => ({ job: await getExport(deps, req.id, actorId) }),
    readExportChunk: (req, { actorId }) => readExportChunk(deps, req.id, req.index, actorId),
  });
  return [
    [ProgressServiceService, progress],
    [ExportServiceService, exports],
    [StatisticsImportServiceService, imports],
  ];
}
