import type { CatalogClient } from '@assistants/catalog/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { toProtoCurriculumFilter, toProtoCurriculumSelection } from '../catalog-selection';
import {
  Curriculum,
  CurriculumCourses,
  CurriculumPatch,
  CurriculumSearch,
  CurriculumSelectionResolve,
  CurriculumSummary,
  NewCurriculum,
} from '../schemas/catalog';
import { IdParams, KeysetPaged, NoContent, responses } from '../schemas/common';

const tags = ['curricula'];
const read = 'catalog:read';
const write = 'catalog:write (on the root organisation)';

export const curriculumRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogClient }> = async (app, { catalog }) => {
  app.post(
    '/v1/curricula/search',
    {
      schema: {
        tags,
        summary: 'Curricula a filter matches (every criterion "contains"; ALL or ANY; disabled in or out), and the exact total',
        body: CurriculumSearch,
        response: responses({ 200: KeysetPaged(Type.Ref(CurriculumSummary)) }),
      },
      config: { needs: read },
    },
    async (request) => {
      const { filter, limit = 50, offset = 0, after = '' } = request.body;
      const { curricula, total, nextCursor } = await catalog.curricula.searchCurricula({
        filter: toProtoCurriculumFilter(filter),
        page: { limit, offset, after },
      });
      return { items: curricula, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/selections/curricula/resolve',
    {
      schema: {
        tags: ['selections'],
        summary: 'One page of the curricula a selection stands for, and the exact total',
        description:
          'A selection is {type: "ids", ids} or {type: "filter", filter}, each with optional excludeIds. Curriculum assistant runs take the same object.',
        body: CurriculumSelectionResolve,
        response: responses({ 200: KeysetPaged(Type.Ref(CurriculumSummary)) }),
      },
      config: { needs: read },
    },
    async (request) => {
      const { selection, limit = 50, offset = 0, after = '' } = request.body;
      const { curricula, total, nextCursor } = await catalog.curricula.resolveCurriculumSelection({
        selection: toProtoCurriculumSelection(selection),
        page: { limit, offset, after },
      });
      return { items: curricula, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/curricula',
    {
      schema: {
        tags,
        summary: 'Create a curriculum, with its ordered courses',
        body: NewCurriculum,
        response: responses({ 201: Type.Ref(Curriculum) }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      const { audienceIds = [], courseIds = [], ...fields } = request.body;
      const { curriculum } = await catalog.curricula.createCurriculum({ fields, audienceIds, courseIds });
      return reply.code(201).header('location', `/v1/curricula/${curriculum!.id}`).send(curriculum!);
    },
  );

  app.get(
    '/v1/curricula/:id',
    {
      schema: {
        tags,
        summary: 'One curriculum, with its ordered course ids',
        params: IdParams,
        response: responses({ 200: Type.Ref(Curriculum) }),
      },
      config: { needs: read },
    },
    async (request) => (await catalog.curricula.getCurriculum({ id: request.params.id, code: '' })).curriculum!,
  );

  app.patch(
    '/v1/curricula/:id',
    {
      schema: {
        tags,
        summary: 'Change a curriculum: absent fields are left as they are; audienceIds and courseIds, when given, replace them',
        params: IdParams,
        body: CurriculumPatch,
        response: responses({ 200: Type.Ref(Curriculum) }),
      },
      config: { needs: write },
    },
    async (request) => {
      const { audienceIds, courseIds, ...fields } = request.body;
      const { curriculum } = await catalog.curricula.updateCurriculum({
        id: request.params.id,
        fields,
        replaceAudiences: audienceIds !== undefined,
        audienceIds: audienceIds ?? [],
        replaceCourses: courseIds !== undefined,
        courseIds: courseIds ?? [],
      });
      return curriculum!;
    },
  );

  app.put(
    '/v1/curricula/:id/courses',
    {
      schema: {
        tags,
        summary: "Set a curriculum's courses, in order",
        params: IdParams,
        body: CurriculumCourses,
        response: responses({ 200: Type.Ref(Curriculum) }),
      },
      config: { needs: write },
    },
    async (request) =>
      (
        await catalog.curricula.updateCurriculum({
          id: request.params.id,
          replaceAudiences: false,
          audienceIds: [],
          replaceCourses: true,
          courseIds: request.body.courseIds,
        })
      ).curriculum!,
  );

  app.delete(
    '/v1/curricula/:id',
    {
      schema: { tags, summary: 'Delete a curriculum (its courses stay)', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: write },
    },
    async (request, reply) => {
      await catalog.curricula.deleteCurriculum({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
