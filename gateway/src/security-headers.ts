import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** Helmet's security headers on every answer (CSP, HSTS, nosniff, frame and referrer policies…).
 *
 * Why helmet itself rather than @fastify/helmet: the plugin builds helmet's middleware again
 * on every request (its options read, the CSP directives parsed and checked), 4 % of the
 * gateway's CPU under bench:gateway. The headers do not depend on the request: the middleware
 * is built once, at start. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const apply = helmet({
    contentSecurityPolicy: {
      directives: {
        'img-src': ["'self'", 'data:'],
        'script-src': ["'self'"],
        'style-src': ["'self'", 'https:'],
        // The docs page must load over plain HTTP too (npm start, port-forwards).
        'upgrade-insecure-requests': null,
      },
    },
  });
  app.addHook('onRequest', (request, reply, done) => apply(request.raw, reply.raw, (err) => done(err as Error | undefined)));
}
