import type * as grpc from '@grpc/grpc-js';
import { identityAuthority, type IdentityClient } from '@assistants/identity/client';
import { applyBatch, implement, type Emit, type Queryable, type RpcContext, type ServiceContext } from '@assistants/kit';
import type { BatchHeader, BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { CourseServiceService, type CourseServiceServer } from '@assistants/proto/gen/catalog/v1/courses';
import { CurriculumServiceService, type CurriculumServiceServer } from '@assistants/proto/gen/catalog/v1/curricula';
import { SessionServiceService, type SessionServiceServer } from '@assistants/proto/gen/catalog/v1/sessions';
import { StructureServiceService, type StructureServiceServer } from '@assistants/proto/gen/catalog/v1/structure';
import { identityAudiences } from './audiences';
import { Caller } from './caller';
import type { CatalogConfig } from './config';
import { createCourse, deleteCourse, getCourse, updateCourse } from './courses';
import { idsOfCodes, loadCourses } from './courses.repo';
import { createCurriculum, deleteCurriculum, getCurriculum, updateCurriculum } from './curricula';
import { loadCurricula } from './curricula.repo';
import { changeItems, type BatchChange, type BatchTarget } from './batch-items';
import { createCategory, deleteCategory, listCategories, updateCategory } from './categories';
import { createCompetency, deleteCompetency, listCompetencies, updateCompetency } from './competencies';
import { COURSES, courseAudiencesChange, courseCustomFieldsChange, courseInformationChange, courseSettingsChange } from './course-actions';
import { CURRICULA, curriculumAudiencesChange, curriculumCustomFieldsChange, curriculumInformationChange } from './curriculum-actions';
import { createFolder, deleteFolder, listFolders, updateFolder } from './folders';
import { addLesson, deleteLesson, updateLesson } from './lessons';
import { identityDirectory } from './session-directory';
import { findSessions, getSession, importSessions, listCourseSessions } from './sessions';
import { resolveCourseSelection, resolveCurriculumSelection, searchCourses, searchCurricula } from './search';

/** The catalog's gRPC services. Each handler asks identity for the acting user's grants
 * (Caller), runs the command in a transaction with its events (write) or on the pool (read),
 * and shapes the answer; the commands decide what the caller may do. */
export function catalogGrpcServices(
  { db, outbox, logger }: Pick<ServiceContext<CatalogConfig>, 'db' | 'outbox' | 'logger'>,
  identity: IdentityClient,
) {
  const authority = identityAuthority(identity);
  const audiences = identityAudiences(identity);

  /** A change by the call's acting user, committed with its events. The grants are asked
   * before the transaction opens: no connection is held while identity answers. */
  const write = async <T>(call: RpcContext, fn: (tx: Queryable, emit: Emit, caller: Caller) => Promise<T>) => {
    const caller = await Caller.load(authority, call.actorId);
    return outbox.transaction((tx, emit) => fn(tx, emit, caller));
  };
  /** A read by the call's acting user. */
  const read = async <T>(call: RpcContext, fn: (caller: Caller) => Promise<T>) => fn(await Caller.load(authority, call.actorId));
  /** A bulk action of an assistant run (batch.v1): the caller may write the catalogue and
   * the parameters are checked (`change` throws INVALID_ARGUMENT naming the field) before
   * any item is looked at; then the batch applies once per idempotency key. */
  const batch = async <R extends { batch?: BatchHeader }>(
    call: RpcContext,
    req: R,
    target: BatchTarget,
    itemIds: string[],
    change: () => BatchChange | Promise<BatchChange>,
  ): Promise<{ result: BatchResult }> => {
    (await Caller.load(authority, call.actorId)).requireWrite();
    const checked = await change();
    const { batch: header, ...request } = req;
    return { result: await applyBatch(outbox, header, request, (tx, emit) => changeItems(tx, emit, target, itemIds, checked)) };
  };

  const courses = implement<CourseServiceServer>(logger, {
    createCourse: async (req, call) => ({
      course: await write(call, (tx, emit, caller) => createCourse(tx, emit, caller, audiences, req)),
    }),
    getCourse: async (req, call) => ({ course: await read(call, (caller) => getCourse(db, caller, req)) }),
    // Service-level: the service token is enough.
    getCourses: async (req) => ({ courses: await loadCourses(db, req.ids) }),
    getCoursesByCode: async (req) => ({ courses: await loadCourses(db, await idsOfCodes(db, 'courses', req.codes)) }),
    updateCourse: async (req, call) => ({
      course: await write(call, (tx, emit, caller) => updateCourse(tx, emit, caller, audiences, req)),
    }),
    deleteCourse: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteCourse(tx, emit, caller, req.id));
      return {};
    },
    addLesson: async (req, call) => ({
      lesson: await write(call, (tx, emit, caller) => addLesson(tx, emit, caller, req.courseId, req.fields)),
    }),
    updateLesson: async (req, call) => ({
      lesson: await write(call, (tx, emit, caller) => updateLesson(tx, emit, caller, req.id, req.fields)),
    }),
    deleteLesson: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteLesson(tx, emit, caller, req.id));
      return {};
    },
    searchCourses: async (req, call) => {
      const { items, total, nextCursor } = await read(call, (caller) => searchCourses(db, caller, audiences, req.filter, req.page));
      return { courses: items, total, nextCursor };
    },
    resolveCourseSelection: async (req, call) => {
      const { items, ids, total, nextCursor } = await read(call, (caller) =>
        resolveCourseSelection(db, caller, audiences, req.selection, req.page),
      );
      return { ids, courses: items, total, nextCursor };
    },
    modifyCourseInformation: (req, call) => batch(call, req, COURSES, req.courseIds, () => courseInformationChange(req)),
    modifyCourseCustomFields: (req, call) => batch(call, req, COURSES, req.courseIds, () => courseCustomFieldsChange(req)),
    modifyCourseSettings: (req, call) => batch(call, req, COURSES, req.courseIds, () => courseSettingsChange(req)),
    addCourseAudiences: (req, call) => batch(call, req, COURSES, req.courseIds, () => courseAudiencesChange(audiences, req)),
  });

  const curricula = implement<CurriculumServiceServer>(logger, {
    createCurriculum: async (req, call) => ({
      curriculum: await write(call, (tx, emit, caller) => createCurriculum(tx, emit, caller, audiences, req)),
    }),
    getCurriculum: async (req, call) => ({ curriculum: await read(call, (caller) => getCurriculum(db, caller, req)) }),
    getCurricula: async (req) => ({ curricula: await loadCurricula(db, req.ids) }),
    getCurriculaByCode: async (req) => ({ curricula: await loadCurricula(db, await idsOfCodes(db, 'curricula', req.codes)) }),
    updateCurriculum: async (req, call) => ({
      curriculum: await write(call, (tx, emit, caller) => updateCurriculum(tx, emit, caller, audiences, req)),
    }),
    deleteCurriculum: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteCurriculum(tx, emit, caller, req.id));
      return {};
    },
    searchCurricula: async (req, call) => {
      const { items, total, nextCursor } = await read(call, (caller) => searchCurricula(db, caller, audiences, req.filter, req.page));
      return { curricula: items, total, nextCursor };
    },
    resolveCurriculumSelection: async (req, call) => {
      const { items, ids, total, nextCursor } = await read(call, (caller) =>
        resolveCurriculumSelection(db, caller, audiences, req.selection, req.page),
      );
      return { ids, curricula: items, total, nextCursor };
    },
    modifyCurriculumInformation: (req, call) => batch(call, req, CURRICULA, req.curriculumIds, () => curriculumInformationChange(req)),
    modifyCurriculumCustomFields: (req, call) => batch(call, req, CURRICULA, req.curriculumIds, () => curriculumCustomFieldsChange(req)),
    addCurriculumAudiences: (req, call) => batch(call, req, CURRICULA, req.curriculumIds, () => curriculumAudiencesChange(audiences, req)),
  });

  const structure = implement<StructureServiceServer>(logger, {
    createFolder: async (req, call) => ({ folder: await write(call, (tx, emit, caller) => createFolder(tx, emit, caller, req)) }),
    updateFolder: async (req, call) => ({ folder: await write(call, (tx, emit, caller) => updateFolder(tx, emit, caller, req)) }),
    deleteFolder: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteFolder(tx, emit, caller, req.id));
      return {};
    },
    listFolders: async (req, call) => ({ folders: await read(call, (caller) => listFolders(db, caller, req.kind)) }),
    createCategory: async (req, call) => ({ category: await write(call, (tx, emit, caller) => createCategory(tx, emit, caller, req)) }),
    updateCategory: async (req, call) => ({ category: await write(call, (tx, emit, caller) => updateCategory(tx, emit, caller, req)) }),
    deleteCategory: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteCategory(tx, emit, caller, req.id));
      return {};
    },
    listCategories: async (_req, call) => ({ categories: await read(call, (caller) => listCategories(db, caller)) }),
    createCompetency: async (req, call) => ({
      competency: await write(call, (tx, emit, caller) => createCompetency(tx, emit, caller, req)),
    }),
    updateCompetency: async (req, call) => ({
      competency: await write(call, (tx, emit, caller) => updateCompetency(tx, emit, caller, req)),
    }),
    deleteCompetency: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteCompetency(tx, emit, caller, req.id));
      return {};
    },
    listCompetencies: async (req, call) => ({
      competencies: await read(call, (caller) => listCompetencies(db, caller, req.query, req.ids)),
    }),
  });

  // Instructor-led sessions (I8).
  const directory = identityDirectory(identity);
  const sessions = implement<SessionServiceServer>(logger, {
    listCourseSessions: async (req, call) => ({ sessions: await read(call, (caller) => listCourseSessions(db, caller, req.courseId)) }),
    getSession: async (req, call) => ({ session: await read(call, (caller) => getSession(db, caller, req.id)) }),
    importSessions: async (req, call) => ({
      result: await importSessions(outbox, db, await Caller.load(authority, call.actorId), directory, req),
    }),
    // Service-level: the service token is enough.
    findSessions: async (req) => ({ found: await findSessions(db, req.refs) }),
  });

  return [
    [CourseServiceService, courses],
    [CurriculumServiceService, curricula],
    [StructureServiceService, structure],
    [SessionServiceService, sessions],
  ] as [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
}
