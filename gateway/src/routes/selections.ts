import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityClient } from '@assistants/identity/client';
import { KeysetPaged, responses } from '../schemas/common';
import { SelectionResolve, UserSummary } from '../schemas/identity';
import { toProtoSelection } from '../selection';

export const selectionRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient }> = async (app, { identity }) => {
  app.post(
    '/v1/selections/users/resolve',
    {
      schema: {
        tags: ['selections'],
        summary: 'SEL-1..3: one page of the users a selection stands for, and the exact total',
        description:
          'A selection is {type: "ids", ids}, {type: "filter", filter} or {type: "list", listId}, each with optional excludeIds ' +
          '(users removed at the recap). Assistant runs take the same object. Only users of your scope are ever included.',
        body: SelectionResolve,
        response: responses({ 200: KeysetPaged(Type.Ref(UserSummary)) }),
      },
      config: { needs: 'users:read' },
    },
    async (request) => {
      const { selection, limit = 50, offset = 0, after = '' } = request.body;
      const { users, total, nextCursor } = await identity.users.resolveUserSelection({
        selection: toProtoSelection(selection),
        page: { limit, offset, after },
      });
      return { items: users, total, limit, offset, nextCursor };
    },
  );
};
