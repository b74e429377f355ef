import type * as grpc from '@grpc/grpc-js';
import { implement, type Logger } from '@assistants/kit';
import { AccessPropertyServiceService, type AccessPropertyServiceServer } from '@assistants/proto/gen/assignment/v1/access';
import { AssignmentServiceService, type AssignmentServiceServer } from '@assistants/proto/gen/assignment/v1/assignments';
import { CertificateServiceService, type CertificateServiceServer } from '@assistants/proto/gen/assignment/v1/certificates';
import { TutorServiceService, type TutorServiceServer } from '@assistants/proto/gen/assignment/v1/tutors';
import { addCourseAccessProperties, addCurriculumAccessProperties } from './access-properties';
import { issueCertificates, reissueCertificatesAction } from './certificates';
import {
  assignCourses,
  assignLearners,
  removeCourseAssignmentsAction,
  updateCourseAssignments,
  updateLearnerAssignments,
} from './course-actions';
import { assignCurricula, removeCurriculumAssignmentsAction, updateCurriculumAssignments } from './curriculum-actions';
import type { Deps } from './deps';
import { importCourseAssignments, importCurriculumAssignments } from './imports';
import { mergeUserAssignments } from './merge';
import { getVisibility, listAccessProperties, listCourseAssignments, listUserAssignments } from './reads';
import { assignTutors } from './tutors';

/** The assignment service's gRPC services: each handler hands the request to its command
 * (which checks the acting user's rights through identity) and wraps the answer. */
export function assignmentGrpcServices(deps: Deps, logger: Logger): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const assignments = implement<AssignmentServiceServer>(logger, {
    assignCourses: async (req) => ({ result: await assignCourses(deps, req) }),
    updateCourseAssignments: async (req) => ({ result: await updateCourseAssignments(deps, req) }),
    removeCourseAssignments: async (req) => ({ result: await removeCourseAssignmentsAction(deps, req) }),
    assignCurricula: async (req) => ({ result: await assignCurricula(deps, req) }),
    updateCurriculumAssignments: async (req) => ({ result: await updateCurriculumAssignments(deps, req) }),
    removeCurriculumAssignments: async (req) => ({ result: await removeCurriculumAssignmentsAction(deps, req) }),
    assignLearners: async (req) => ({ result: await assignLearners(deps, req) }),
    updateLearnerAssignments: async (req) => ({ result: await updateLearnerAssignments(deps, req) }),
    mergeUserAssignments: async (req) => ({ result: await mergeUserAssignments(deps, req) }),
    importCourseAssignments: async (req) => ({ result: await importCourseAssignments(deps, req) }),
    importCurriculumAssignments: async (req) => ({ result: await importCurriculumAssignments(deps, req) }),
    listUserAssignments: (req) => listUserAssignments(deps, req.userId),
    listCourseAssignments: (req, call) => listCourseAssignments(deps, call.actorId, req.courseId, req.page),
  });
  const certificates = implement<CertificateServiceServer>(logger, {
    issueCertificates: async (req) => ({ result: await issueCertificates(deps, req) }),
    reissueCertificates: async (req) => ({ result: await reissueCertificatesAction(deps, req) }),
  });
  const tutors = implement<TutorServiceServer>(logger, {
    assignTutors: async (req) => ({ result: await assignTutors(deps, req) }),
  });
  const access = implement<AccessPropertyServiceServer>(logger, {
    addCourseAccessProperties: async (req, call) => ({ result: await addCourseAccessProperties(deps, call.actorId, req) }),
    addCurriculumAccessProperties: async (req, call) => ({ result: await addCurriculumAccessProperties(deps, call.actorId, req) }),
    listAccessProperties: (req, call) => listAccessProperties(deps, call.actorId, req.objectType, req.objectId),
    getVisibility: (req) => getVisibility(deps, req.userId, req.courseIds, req.curriculumIds),
  });
  return [
    [AssignmentServiceService, assignments],
    [CertificateServiceService, certificates],
    [TutorServiceService, tutors],
    [AccessPropertyServiceService, access],
  ];
}
