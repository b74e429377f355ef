import type { AssignmentClient } from '@assistants/assignment/client';
import { ObjectType } from '@assistants/proto/gen/assignment/v1/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  toHttpAccessProperty,
  toHttpCertificate,
  toHttpCourseAssignment,
  toHttpCurriculumAssignment,
  toHttpTutorship,
} from '../assignment-shapes';
import { AccessProperty, CourseAssignment, UserAssignments } from '../schemas/assignment';
import { After, IdParams, responses } from '../schemas/common';

const tags = ['assignments'];

/** What the assignment service holds, to see the state the assistants left (the changes go
 * through runs: U6-U15, C5-C7, P4). */
export const assignmentRoutes: FastifyPluginAsyncTypebox<{ assignment: AssignmentClient }> = async (app, { assignment }) => {
  app.get(
    '/v1/users/:id/assignments',
    {
      schema: {
        tags,
        summary: "A user's course and curriculum assignments, certificates and tutorships",
        params: IdParams,
        response: responses({ 200: Type.Ref(UserAssignments) }),
      },
      config: { needs: 'assignments:read' },
    },
    async (request) => {
      const found = await assignment.assignments.listUserAssignments({ userId: request.params.id });
      return {
        courseAssignments: found.courseAssignments.map(toHttpCourseAssignment),
        curriculumAssignments: found.curriculumAssignments.map(toHttpCurriculumAssignment),
        certificates: found.certificates.map(toHttpCertificate),
        tutorships: found.tutorships.map(toHttpTutorship),
      };
    },
  );

  app.get(
    '/v1/courses/:id/assignments',
    {
      schema: {
        tags,
        summary: 'The assignments of a course, by user id (keyset paged), and how many there are',
        params: IdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })), after: After },
          { additionalProperties: false },
        ),
        response: responses({
          200: Type.Object({
            items: Type.Array(Type.Ref(CourseAssignment)),
            total: Type.Integer(),
            nextCursor: Type.String({ description: 'give it as `after` for the next page; "" on the last page' }),
          }),
        }),
      },
      config: { needs: 'assignments:read (on the root organisation)' },
    },
    async (request) => {
      const { limit = 100, after = '' } = request.query;
      const page = await assignment.assignments.listCourseAssignments({ courseId: request.params.id, page: { limit, after } });
      return { items: page.assignments.map(toHttpCourseAssignment), total: page.total, nextCursor: page.nextCursor };
    },
  );

  for (const [kind, objectType] of [
    ['courses', ObjectType.OBJECT_TYPE_COURSE],
    ['curricula', ObjectType.OBJECT_TYPE_CURRICULUM],
  ] as const) {
    app.get(
      `/v1/${kind}/:id/access-properties`,
      {
        schema: {
          tags,
          summary: `The access properties of a ${kind === 'courses' ? 'course' : 'curriculum'} (C5, P4): its lists, visibility and enrolment`,
          params: IdParams,
          response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(AccessProperty)) }) }),
        },
        config: { needs: 'assignments:read (on the root organisation)' },
      },
      async (request) => {
        const { accessProperties } = await assignment.access.listAccessProperties({ objectType, objectId: request.params.id });
        return { items: accessProperties.map(toHttpAccessProperty) };
      },
    );
  }
};
