import { applyBatch, checkIds, invalidArgument } from '@assistants/kit';
import type { IssueCertificatesRequest, ReissueCertificatesRequest } from '@assistants/proto/gen/assignment/v1/certificates';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { insertCertificates, reissueCertificates, toCertificate } from './certificates.repo';
import type { Deps } from './deps';
import { events } from './events';
import { catalogItem, checkTemplateId, itemIds, pairKey, Results, toLearner, userRefusal } from './items';
import { PERMISSIONS } from './permissions';
import { requireCourses, usersForAction, type CourseInfo } from './upstreams';

/*
 * Certificates issued per user and course, with the course's certificate template of the
 * time. U11 issues them again with the course's current template: its purpose (the seed) is
 * to bring up to date a certificate whose template changed in the course's settings, so a
 * user who holds none for the course is left as is (UNCHANGED NO_CERTIFICATE).
 */

type Request = IssueCertificatesRequest | ReissueCertificatesRequest;

async function prepare(deps: Deps, req: Request) {
  const courseIds = checkIds('courseIds', req.courseIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  const courses = await requireCourses(deps.upstreams.catalog, courseIds, 'courseIds');
  courseIds.forEach((id, i) => {
    if (!courses.get(id)!.certificateTemplateId) {
      throw invalidArgument(`courseIds[${i}]`, `course ${courses.get(id)!.code} has no certificate template`);
    }
  });
  const userIds = itemIds(req.userIds);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  const pairs = courseIds.flatMap((courseId) => userIds.map((userId) => ({ userId, courseId })));
  return { courseIds, notifyTemplateId, courses, userIds, users, pairs };
}

const issueOf = (courses: Map<string, CourseInfo>) => (p: { userId: string; courseId: string }) => ({
  ...p,
  templateId: courses.get(p.courseId)!.certificateTemplateId,
});

/** Issues the courses' certificates to the users who hold none for them yet. */
export async function issueCertificates(deps: Deps, req: IssueCertificatesRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const { courseIds, notifyTemplateId, courses, userIds, users, pairs } = await prepare(deps, req);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, courseIds);
    const accepted = pairs.filter((p) => {
      const refusal = userRefusal(users.get(p.userId), PERMISSIONS.write);
      if (refusal) results.failed(p.userId, p.courseId, refusal);
      return !refusal;
    });
    const issued = new Map((await insertCertificates(tx, accepted.map(issueOf(courses)))).map((r) => [pairKey(r.user_id, r.course_id), r]));
    for (const p of accepted) {
      const row = issued.get(pairKey(p.userId, p.courseId));
      if (!row) {
        results.unchanged(p.userId, p.courseId, 'ALREADY_ISSUED', 'the user already holds a certificate for this course');
        continue;
      }
      events.certificateIssued(emit, {
        certificate: toCertificate(row),
        learner: toLearner(users.get(p.userId)!),
        course: catalogItem(courses.get(p.courseId)!),
        reissued: false,
        previousTemplateId: '',
        notifyTemplateId,
      });
      results.succeeded(p.userId, p.courseId);
    }
    return results.list();
  });
}

/** U11: issues the users' certificates of the courses again, with each course's current
 * certificate template. */
export async function reissueCertificatesAction(deps: Deps, req: ReissueCertificatesRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const { courseIds, notifyTemplateId, courses, userIds, users, pairs } = await prepare(deps, req);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, courseIds);
    const accepted = pairs.filter((p) => {
      const refusal = userRefusal(users.get(p.userId), PERMISSIONS.write);
      if (refusal) results.failed(p.userId, p.courseId, refusal);
      return !refusal;
    });
    const reissued = new Map(
      (await reissueCertificates(tx, accepted.map(issueOf(courses)))).map((r) => [pairKey(r.user_id, r.course_id), r]),
    );
    for (const p of accepted) {
      const row = reissued.get(pairKey(p.userId, p.courseId));
      if (!row) {
        results.unchanged(p.userId, p.courseId, 'NO_CERTIFICATE', 'the user holds no certificate for this course: nothing to reissue');
        continue;
      }
      events.certificateIssued(emit, {
        certificate: toCertificate(row),
        learner: toLearner(users.get(p.userId)!),
        course: catalogItem(courses.get(p.courseId)!),
        reissued: true,
        previousTemplateId: row.previous_template_id,
        notifyTemplateId,
      });
      results.succeeded(p.userId, p.courseId);
    }
    return results.list();
  });
}
