import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { serializersBuiltOnce } from '../src/serializers';

// The response serialisers: one per distinct schema, and each one still answers as its
// schema says (over real HTTP through fastify).

it('gives routes whose answers have the same schema the same serialiser, and others their own', () => {
  const compile = serializersBuiltOnce().compilersFactory!.buildSerializer!(
    { Error: Type.Object({ error: Type.String() }, { $id: 'Error' }) },
    {},
  );
  const route = (url: string, schema: unknown) => ({ method: 'GET', url, httpStatus: '404', schema });
  const notFound = () => ({ $ref: 'Error#', description: 'No such object' });
  const first = compile(route('/a', notFound()));
  expect(compile(route('/b', notFound()))).toBe(first);
  expect(compile(route('/c', { $ref: 'Error#', description: 'Another answer' }))).not.toBe(first);
  expect(first({ error: 'not_found', secret: 'dropped' })).toBe('{"error":"not_found"}');
});

it('serialises each route by its own schema when they share none', async () => {
  const app = Fastify({ schemaController: serializersBuiltOnce() });
  app.addSchema(Type.Object({ error: Type.String(), message: Type.String() }, { $id: 'ErrorBody' }));
  const errors = { 404: Type.Ref('ErrorBody'), 409: Type.Ref('ErrorBody') };
  app.get('/user', { schema: { response: { 200: Type.Object({ login: Type.String() }), ...errors } } }, async () => ({
    login: 'ada',
    passwordHash: 'never sent',
  }));
  app.get('/course', { schema: { response: { 200: Type.Object({ code: Type.String() }), ...errors } } }, async (_request, reply) =>
    reply.code(404).send({ error: 'not_found', message: 'no course', stack: 'never sent' }),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const user = await fetch(`${base}/user`);
    expect(await user.json()).toEqual({ login: 'ada' });
    const course = await fetch(`${base}/course`);
    expect([course.status, await course.json()]).toEqual([404, { error: 'not_found', message: 'no course' }]);
  } finally {
    await app.close();
  }
});
