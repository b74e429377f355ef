import type * as grpc from '@grpc/grpc-js';
import { identityAuthority, type IdentityClient } from '@assistants/identity/client';
import { failedPrecondition, implement, type Emit, type Queryable, type RpcContext, type ServiceContext } from '@assistants/kit';
import { CourseServiceService, type CourseServiceServer } from '@assistants/proto/gen/catalog/v1/courses';
import { CurriculumServiceService, type CurriculumServiceServer } from '@assistants/proto/gen/catalog/v1/curricula';
import { StructureServiceService, type StructureServiceServer } from '@assistants/proto/gen/catalog/v1/structure';
import { identityAudiences } from './audiences';
import { Caller } from './caller';
import type { CatalogConfig } from './config';
import { createCourse, deleteCourse, getCourse, updateCourse } from './courses';
import { loadCourses } from './courses.repo';
import { createCurriculum, deleteCurriculum, getCurriculum, updateCurriculum } from './curricula';
import { loadCurricula } from './curricula.repo';
import { addLesson, deleteLesson, updateLesson } from './lessons';

const notYet = async (): Promise<never> => {
  throw failedPrecondition('not implemented yet');
};

/** The catalog's gRPC services. Each handler asks identity for the acting user's grants
 * (Caller), runs the command in a transaction with its events (write) or on the pool (read),
 * and shapes the answer; the commands decide what the caller may do. */
export function catalogGrpcServices({ db, outbox, logger }: ServiceContext<CatalogConfig>, identity: IdentityClient) {
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

  const courses = implement<CourseServiceServer>(logger, {
    createCourse: async (req, call) => ({
      course: await write(call, (tx, emit, caller) => createCourse(tx, emit, caller, audiences, req)),
    }),
    getCourse: async (req, call) => ({ course: await read(call, (caller) => getCourse(db, caller, req)) }),
    // Service-level: the service token is enough.
    getCourses: async (req) => ({ courses: await loadCourses(db, req.ids) }),
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
    searchCourses: notYet,
    resolveCourseSelection: notYet,
    modifyCourseInformation: notYet,
    modifyCourseCustomFields: notYet,
    modifyCourseSettings: notYet,
    addCourseAudiences: notYet,
  });

  const curricula = implement<CurriculumServiceServer>(logger, {
    createCurriculum: async (req, call) => ({
      curriculum: await write(call, (tx, emit, caller) => createCurriculum(tx, emit, caller, audiences, req)),
    }),
    getCurriculum: async (req, call) => ({ curriculum: await read(call, (caller) => getCurriculum(db, caller, req)) }),
    getCurricula: async (req) => ({ curricula: await loadCurricula(db, req.ids) }),
    updateCurriculum: async (req, call) => ({
      curriculum: await write(call, (tx, emit, caller) => updateCurriculum(tx, emit, caller, audiences, req)),
    }),
    deleteCurriculum: async (req, call) => {
      await write(call, (tx, emit, caller) => deleteCurriculum(tx, emit, caller, req.id));
      return {};
    },
    searchCurricula: notYet,
    resolveCurriculumSelection: notYet,
    modifyCurriculumInformation: notYet,
    modifyCurriculumCustomFields: notYet,
    addCurriculumAudiences: notYet,
  });

  const structure = implement<StructureServiceServer>(logger, {
    createFolder: notYet,
    updateFolder: notYet,
    deleteFolder: notYet,
    listFolders: notYet,
    createCategory: notYet,
    updateCategory: notYet,
    deleteCategory: notYet,
    listCategories: notYet,
    createCompetency: notYet,
    updateCompetency: notYet,
    deleteCompetency: notYet,
    listCompetencies: notYet,
  });

  return [
    [CourseServiceService, courses],
    [CurriculumServiceService, curricula],
    [StructureServiceService, structure],
  ] as [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
}
