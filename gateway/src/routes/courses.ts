import type { CatalogClient } from '@assistants/catalog/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { toProtoCourseFilter, toProtoCourseSelection } from '../catalog-selection';
import { toHttpCourse, toHttpLesson, toLessonFields } from '../catalog-shapes';
import {
  CourseSearch,
  CourseSelectionResolve,
  CourseSummary,
  Course,
  CoursePatch,
  Lesson,
  LessonPatch,
  NewCourse,
  NewLesson,
} from '../schemas/catalog';
import { IdParams, KeysetPaged, NoContent, responses } from '../schemas/common';

const tags = ['courses'];
const read = 'catalog:read';
const write = 'catalog:write (on the root organisation)';

export const courseRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogClient }> = async (app, { catalog }) => {
  app.post(
    '/v1/courses/search',
    {
      schema: {
        tags,
        summary: 'Courses a filter matches (every criterion "contains"; ALL or ANY; disabled in or out), and the exact total',
        body: CourseSearch,
        response: responses({ 200: KeysetPaged(Type.Ref(CourseSummary)) }),
      },
      config: { needs: read },
    },
    async (request) => {
      const { filter, limit = 50, offset = 0, after = '' } = request.body;
      const { courses, total, nextCursor } = await catalog.courses.searchCourses({
        filter: toProtoCourseFilter(filter),
        page: { limit, offset, after },
      });
      return { items: courses, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/selections/courses/resolve',
    {
      schema: {
        tags: ['selections'],
        summary: 'One page of the courses a selection stands for, and the exact total',
        description:
          'A selection is {type: "ids", ids} or {type: "filter", filter}, each with optional excludeIds (courses removed at the recap). ' +
          'Course assistant runs take the same object.',
        body: CourseSelectionResolve,
        response: responses({ 200: KeysetPaged(Type.Ref(CourseSummary)) }),
      },
      config: { needs: read },
    },
    async (request) => {
      const { selection, limit = 50, offset = 0, after = '' } = request.body;
      const { courses, total, nextCursor } = await catalog.courses.resolveCourseSelection({
        selection: toProtoCourseSelection(selection),
        page: { limit, offset, after },
      });
      return { items: courses, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/courses',
    {
      schema: { tags, summary: 'Create a course, with its lessons', body: NewCourse, response: responses({ 201: Type.Ref(Course) }) },
      config: { needs: write },
    },
    async (request, reply) => {
      const { audienceIds = [], lessons = [], ...fields } = request.body;
      const { course } = await catalog.courses.createCourse({ fields, audienceIds, lessons: lessons.map(toLessonFields) });
      return reply.code(201).header('location', `/v1/courses/${course!.id}`).send(toHttpCourse(course!));
    },
  );

  app.get(
    '/v1/courses/:id',
    {
      schema: { tags, summary: 'One course, with its lessons', params: IdParams, response: responses({ 200: Type.Ref(Course) }) },
      config: { needs: read },
    },
    async (request) => toHttpCourse((await catalog.courses.getCourse({ id: request.params.id, code: '' })).course!),
  );

  app.patch(
    '/v1/courses/:id',
    {
      schema: {
        tags,
        summary: 'Change a course: absent fields are left as they are; audienceIds, when given, replaces the audiences',
        params: IdParams,
        body: CoursePatch,
        response: responses({ 200: Type.Ref(Course) }),
      },
      config: { needs: write },
    },
    async (request) => {
      const { audienceIds, ...fields } = request.body;
      const { course } = await catalog.courses.updateCourse({
        id: request.params.id,
        fields,
        replaceAudiences: audienceIds !== undefined,
        audienceIds: audienceIds ?? [],
      });
      return toHttpCourse(course!);
    },
  );

  app.delete(
    '/v1/courses/:id',
    {
      schema: {
        tags,
        summary: 'Delete a course and its lessons (refused while a curriculum holds it)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      await catalog.courses.deleteCourse({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/courses/:id/lessons',
    {
      schema: {
        tags,
        summary: 'Add a lesson to a course: last, or at `position`',
        params: IdParams,
        body: NewLesson,
        response: responses({ 201: Type.Ref(Lesson) }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      const { lesson } = await catalog.courses.addLesson({ courseId: request.params.id, fields: toLessonFields(request.body) });
      return reply.code(201).header('location', `/v1/lessons/${lesson!.id}`).send(toHttpLesson(lesson!));
    },
  );

  app.patch(
    '/v1/lessons/:id',
    {
      schema: {
        tags,
        summary: 'Change a lesson: absent fields are left as they are; a position moves it',
        params: IdParams,
        body: LessonPatch,
        response: responses({ 200: Type.Ref(Lesson) }),
      },
      config: { needs: write },
    },
    async (request) =>
      toHttpLesson((await catalog.courses.updateLesson({ id: request.params.id, fields: toLessonFields(request.body) })).lesson!),
  );

  app.delete(
    '/v1/lessons/:id',
    {
      schema: { tags, summary: 'Delete a lesson (the ones after it move up)', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: write },
    },
    async (request, reply) => {
      await catalog.courses.deleteLesson({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
