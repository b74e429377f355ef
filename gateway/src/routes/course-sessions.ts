import type { CatalogClient } from '@assistants/catalog/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdParams, responses } from '../schemas/common';
import { CourseSession } from '../schemas/course-sessions';

/** The sessions of instructor-led courses (made by the I8 import). */
export const courseSessionRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogClient }> = async (app, { catalog }) => {
  app.get(
    '/v1/courses/:id/sessions',
    {
      schema: {
        tags: ['courses'],
        summary: "A course's instructor-led sessions (by start), each with its lesson sessions",
        params: IdParams,
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(CourseSession)) }) }),
      },
      config: { needs: 'catalog:read' },
    },
    async (request) => ({ items: (await catalog.sessions.listCourseSessions({ courseId: request.params.id })).sessions }),
  );
};
