import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityClient } from '@assistants/identity/client';
import { After, IdParams, KeysetPaged, NoContent, Paged, PageQuery, responses } from '../schemas/common';
import { ListFolder, ListPatch, ListSearch, MemberIds, NewList, NewListFolder, UserList, UserSummary } from '../schemas/identity';
import { toProtoFilter } from '../selection';

const tags = ['lists'];

export const listRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.get(
    '/v1/list-folders',
    {
      schema: {
        tags,
        summary: 'List folders ("Default" always exists)',
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(ListFolder)) }) }),
      },
      config: { needs: 'lists:read' },
    },
    async () => ({ items: (await identity.lists.listListFolders({})).folders }),
  );

  app.post(
    '/v1/list-folders',
    {
      schema: { tags, summary: 'Create a list folder', body: NewListFolder, response: responses({ 201: Type.Ref(ListFolder) }) },
      config: { needs: 'lists:write' },
    },
    async (request, reply) => {
      const { folder } = await identity.lists.createListFolder({ name: request.body.name, parentId: request.body.parentId ?? '' });
      return reply.code(201).send(folder!);
    },
  );

  app.post(
    '/v1/lists/search',
    {
      schema: {
        tags,
        summary: 'SEL-2: lists by name, description and type (ALL or ANY), with the exact total',
        body: ListSearch,
        response: responses({ 200: Paged(Type.Ref(UserList)) }),
      },
      config: { needs: 'lists:read' },
    },
    async (request) => {
      const { filter, limit = 50, offset = 0 } = request.body;
      const { lists, total } = await identity.lists.searchLists({
        filter: {
          name: filter.name ?? '',
          description: filter.description ?? '',
          type: filter.type ?? '',
          match: filter.match ?? 'all',
          includeDisabled: filter.includeDisabled ?? false,
          folderId: filter.folderId ?? '',
        },
        page: { limit, offset, after: '' },
      });
      return { items: lists, total, limit, offset };
    },
  );

  app.post(
    '/v1/lists',
    {
      schema: {
        tags,
        summary: 'Create a static list (memberIds) or a dynamic one (criteria)',
        body: NewList,
        response: responses({ 201: Type.Ref(UserList) }),
      },
      config: { needs: 'lists:write' },
    },
    async (request, reply) => {
      const { name, description = '', type, folderId = '', criteria, memberIds = [], ownerOrganisationId = '' } = request.body;
      const { list } = await identity.lists.createList({
        name,
        description,
        type,
        folderId,
        criteria: criteria && toProtoFilter(criteria),
        memberIds,
        ownerOrganisationId,
      });
      return reply.code(201).header('location', `/v1/lists/${list!.id}`).send(list!);
    },
  );

  app.get(
    '/v1/lists/:id',
    {
      schema: { tags, summary: 'One list', params: IdParams, response: responses({ 200: Type.Ref(UserList) }) },
      config: { needs: 'lists:read' },
    },
    async (request) => (await identity.lists.getList({ id: request.params.id })).list!,
  );

  app.patch(
    '/v1/lists/:id',
    {
      schema: {
        tags,
        summary: 'Change a list; new criteria re-evaluate a dynamic list now',
        params: IdParams,
        body: ListPatch,
        response: responses({ 200: Type.Ref(UserList) }),
      },
      config: { needs: 'lists:write' },
    },
    async (request) => {
      const { criteria, ...changes } = request.body;
      const update = { id: request.params.id, ...changes, criteria: criteria && toProtoFilter(criteria) };
      return (await identity.lists.updateList(update)).list!;
    },
  );

  app.delete(
    '/v1/lists/:id',
    {
      schema: { tags, summary: 'Delete a list', params: IdParams, response: responses({ 204: NoContent }) },
      config: { needs: 'lists:write' },
    },
    async (request, reply) => {
      await identity.lists.deleteList({ id: request.params.id });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/lists/:id/members',
    {
      schema: {
        tags,
        summary: 'Members of a list (of your scope), sorted by name',
        params: IdParams,
        querystring: Type.Object({ ...PageQuery.properties, after: After }, { additionalProperties: false }),
        response: responses({ 200: KeysetPaged(Type.Ref(UserSummary)) }),
      },
      config: { needs: 'users:read' },
    },
    async (request) => {
      const { limit = 50, offset = 0, after = '' } = request.query;
      const { users, total, nextCursor } = await identity.users.resolveUserSelection({
        selection: { listId: request.params.id, excludeIds: [] },
        page: { limit, offset, after },
      });
      return { items: users, total, limit, offset, nextCursor };
    },
  );

  app.post(
    '/v1/lists/:id/members',
    {
      schema: {
        tags,
        summary: 'Add users to a static list',
        params: IdParams,
        body: MemberIds,
        response: responses({ 200: Type.Object({ added: Type.Integer() }) }),
      },
      config: { needs: 'lists:write' },
    },
    async (request) => identity.lists.addListMembers({ listId: request.params.id, userIds: request.body.userIds }),
  );

  app.post(
    '/v1/lists/:id/members/remove',
    {
      schema: {
        tags,
        summary: 'Remove users from a static list',
        params: IdParams,
        body: MemberIds,
        response: responses({ 200: Type.Object({ removed: Type.Integer() }) }),
      },
      config: { needs: 'lists:write' },
    },
    async (request) => identity.lists.removeListMembers({ listId: request.params.id, userIds: request.body.userIds }),
  );
};
