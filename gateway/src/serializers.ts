import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

/** Response serialisers built once per distinct schema.
 *
 * Why: every route documents its error answers with the same few schemas (`responses()`), and
 * fastify builds a serialiser for each status of each route, each build checking every shared
 * schema again: about 1,300 builds, 5 of the gateway's 7.4 s of CPU to start (a gateway started
 * again on a busy machine took 17–54 s to be ready: RELIABILITY.md). A schema of the same JSON
 * in the same context (the same shared schemas) gets the same serialiser. */
export function serializersBuiltOnce(): NonNullable<FastifyServerOptions['schemaController']> {
  const factory = SerializerSelector();
  return {
    compilersFactory: {
      // Called once per context with that context's shared schemas.
      buildSerializer: (externalSchemas, options) => {
        const build = factory(externalSchemas, options as Parameters<typeof factory>[1]);
        const built = new Map<string, ReturnType<typeof build>>();
        return (route: Parameters<typeof build>[0]) => {
          const key = JSON.stringify(route.schema);
          let serialiser = built.get(key);
          if (!serialiser) {
            serialiser = build(route);
            built.set(key, serialiser);
          }
          return serialiser;
        };
      },
    },
  };
}
