import { invalidArgument } from '@assistants/kit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { credentialOf } from '../auth';
import type { IdentityClient } from '@assistants/identity/client';
import { NoContent, responses } from '../schemas/common';
import { Principal } from '../schemas/identity';

const Session = Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), principal: Type.Ref(Principal) });

/** Logging in and out. POST /v1/sessions takes the login and password as HTTP Basic
 * credentials, like every other route would; the token it returns is then used as
 * `Authorization: Bearer <token>`. */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ identity: IdentityClient; forget(authorization: string): void }> = async (
  app,
  { identity, forget },
) => {
  app.post(
    '/v1/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Log in: trade a login and password (HTTP Basic) for a bearer token',
        security: [{ basic: [] }],
        response: responses({ 201: Session }),
      },
    },
    async (request, reply) => {
      const credential = credentialOf(request.headers.authorization)?.loginPassword;
      if (!credential) throw invalidArgument('authorization', 'log in with HTTP Basic credentials (login:password)');
      const session = await identity.auth.createSession(credential);
      return reply.code(201).send({ ...session, principal: session.principal! });
    },
  );

  app.delete(
    '/v1/sessions/current',
    { schema: { tags: ['sessions'], summary: 'Log out: the bearer token stops working', response: responses({ 204: NoContent }) } },
    async (request, reply) => {
      const token = credentialOf(request.headers.authorization)?.token;
      if (!token) throw invalidArgument('authorization', 'only a bearer token can be logged out');
      await identity.auth.deleteSession({ token });
      forget(request.headers.authorization!);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/me',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Who I am and what my role grants allow where',
        response: responses({ 200: Type.Ref(Principal) }),
      },
    },
    async (request) => request.principal,
  );

  app.put(
    '/v1/me/password',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Change my own password, giving the current one',
        description:
          'The only route open to a user whose password was set by an administrator (mustChangePassword): every other ' +
          'answers 409 until it is changed. Every session of the user ends: log in again with the new password.',
        body: Type.Object(
          { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Type.String({ minLength: 8, maxLength: 256 }) },
          { additionalProperties: false },
        ),
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      await identity.auth.changeOwnPassword(request.body);
      forget(request.headers.authorization!);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/permissions',
    {
      schema: {
        tags: ['roles'],
        summary: 'Every permission a role can carry, of every service',
        response: responses({
          200: Type.Array(
            Type.Object({
              name: Type.String(),
              description: Type.String(),
              service: Type.String(),
              rootOnly: Type.Boolean({ description: 'holds only through a grant on the root organisation' }),
            }),
          ),
        }),
      },
    },
    async () => (await identity.roles.listPermissions({})).permissions,
  );
};
