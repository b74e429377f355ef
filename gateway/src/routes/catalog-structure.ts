import type { CatalogClient } from '@assistants/catalog/client';
import { FolderKind } from '@assistants/proto/gen/catalog/v1/structure';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FOLDER_KIND, toHttpFolder } from '../catalog-shapes';
import {
  CatalogFolder,
  CatalogFolderPatch,
  Category,
  CategoryPatch,
  Competency,
  CompetencyPatch,
  CompetencyQuery,
  FolderQuery,
  NewCatalogFolder,
  NewCategory,
  NewCompetency,
} from '../schemas/catalog';
import { IdParams, NoContent, responses } from '../schemas/common';

const read = 'catalog:read';
const write = 'catalog:write (on the root organisation)';
const Items = <T extends Parameters<typeof Type.Ref>[0]>(item: T) => Type.Object({ items: Type.Array(Type.Ref(item)) });

/** Course and curriculum folders, categories and competencies. */
export const catalogStructureRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogClient }> = async (app, { catalog }) => {
  const { structure } = catalog;

  app.get(
    '/v1/catalog/folders',
    {
      schema: {
        tags: ['catalog folders'],
        summary: 'The course and curriculum folder trees: each folder after its parent, siblings by name',
        querystring: FolderQuery,
        response: responses({ 200: Items(CatalogFolder) }),
      },
      config: { needs: read },
    },
    async (request) => {
      const kind = request.query.kind ? FOLDER_KIND[request.query.kind] : FolderKind.FOLDER_KIND_UNSPECIFIED;
      return { items: (await structure.listFolders({ kind })).folders.map(toHttpFolder) };
    },
  );

  app.post(
    '/v1/catalog/folders',
    {
      schema: {
        tags: ['catalog folders'],
        summary: 'Create a folder',
        body: NewCatalogFolder,
        response: responses({ 201: Type.Ref(CatalogFolder) }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      const { kind, name, parentId = '' } = request.body;
      const { folder } = await structure.createFolder({ kind: FOLDER_KIND[kind], name, parentId });
      return reply.code(201).header('location', `/v1/catalog/folders/${folder!.id}`).send(toHttpFolder(folder!));
    },
  );

  app.patch(
    '/v1/catalog/folders/:id',
    {
      schema: {
        tags: ['catalog folders'],
        summary: 'Rename or move a folder (with its sub-folders)',
        params: IdParams,
        body: CatalogFolderPatch,
        response: responses({ 200: Type.Ref(CatalogFolder) }),
      },
      config: { needs: write },
    },
    async (request) => toHttpFolder((await structure.updateFolder({ id: request.params.id, ...request.body })).folder!),
  );

  app.delete(
    '/v1/catalog/folders/:id',
    {
      schema: {
        tags: ['catalog folders'],
        summary: 'Delete an empty folder (no sub-folder, course or curriculum)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      await structure.deleteFolder({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/catalog/categories',
    {
      schema: { tags: ['categories'], summary: 'Course categories, by name', response: responses({ 200: Items(Category) }) },
      config: { needs: read },
    },
    async () => ({ items: (await structure.listCategories({})).categories }),
  );

  app.post(
    '/v1/catalog/categories',
    {
      schema: { tags: ['categories'], summary: 'Create a category', body: NewCategory, response: responses({ 201: Type.Ref(Category) }) },
      config: { needs: write },
    },
    async (request, reply) => {
      const { category } = await structure.createCategory({ name: request.body.name, description: request.body.description ?? '' });
      return reply.code(201).header('location', `/v1/catalog/categories/${category!.id}`).send(category!);
    },
  );

  app.patch(
    '/v1/catalog/categories/:id',
    {
      schema: {
        tags: ['categories'],
        summary: 'Rename or describe a category',
        params: IdParams,
        body: CategoryPatch,
        response: responses({ 200: Type.Ref(Category) }),
      },
      config: { needs: write },
    },
    async (request) => (await structure.updateCategory({ id: request.params.id, ...request.body })).category!,
  );

  app.delete(
    '/v1/catalog/categories/:id',
    {
      schema: {
        tags: ['categories'],
        summary: 'Delete a category (its courses lose it)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      await structure.deleteCategory({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/catalog/competencies',
    {
      schema: {
        tags: ['competencies'],
        summary: 'Competencies, by code',
        querystring: CompetencyQuery,
        response: responses({ 200: Items(Competency) }),
      },
      config: { needs: read },
    },
    async (request) => ({ items: (await structure.listCompetencies({ query: request.query.query ?? '', ids: [] })).competencies }),
  );

  app.post(
    '/v1/catalog/competencies',
    {
      schema: {
        tags: ['competencies'],
        summary: 'Create a competency',
        body: NewCompetency,
        response: responses({ 201: Type.Ref(Competency) }),
      },
      config: { needs: write },
    },
    async (request, reply) => {
      const { code, name, description = '' } = request.body;
      const { competency } = await structure.createCompetency({ code, name, description });
      return reply.code(201).header('location', `/v1/catalog/competencies/${competency!.id}`).send(competency!);
    },
  );

  app.patch(
    '/v1/catalog/competencies/:id',
    {
      schema: {
        tags: ['competencies'],
        summary: 'Change a competency',
        params: IdParams,
        body: CompetencyPatch,
        response: responses({ 200: Type.Ref(Competency) }),
      },
      config: { needs: write },
    },
    async (request) => (await structure.updateCompetency({ id: request.params.id, ...request.body })).competency!,
  );

  app.delete(
    '/v1/catalog/competencies/:id',
    {
      schema: { tags: ['competencies'], summary: 'Delete a competency', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: write },
    },
    async (request, reply) => {
      await structure.deleteCompetency({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
