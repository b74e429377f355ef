import { createHash } from 'node:crypto';
import type { IdentityClient } from '@assistants/identity/client';
import { bindActor, DomainError } from '@assistants/kit';
import type { AuthenticateRequest, Principal } from '@assistants/proto/gen/identity/v1/auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory } from 'rate-limiter-flexible';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Documentation only (shown in /docs): the permission the route needs. Identity decides
     * from the caller's own grants, for every caller alike; the gateway checks nothing. */
    needs?: string;
    /** The route takes no credentials (a secret in its address stands for them, e.g. a
     * calendar feed). Rate limits still apply, by client address. */
    anonymous?: boolean;
  }
}

export function credentialOf(header: string | undefined): AuthenticateRequest | undefined {
  const [kind, value] = (header ?? '').split(' ', 2);
  if (!value) return undefined;
  if (kind.toLowerCase() === 'bearer') return { token: value };
  if (kind.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) return undefined;
    return { loginPassword: { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) } };
  }
  return undefined;
}

export interface AuthOptions {
  identity: IdentityClient;
  failuresPerMinute: number;
  cacheSeconds: number;
}

/** Every route needs a credential: a bearer token from POST /v1/sessions, or a login and
 * password (HTTP Basic), except a route marked `anonymous` (a calendar feed, whose secret
 * address is its credential). Once checked, the user becomes the acting user of every call the
 * request makes (identity and the other services decide from its grants). Checked
 * credentials are trusted for a few seconds; failures are counted per client address and,
 * past the limit, refused before they reach identity. */
export function registerAuthentication(app: FastifyInstance, options: AuthOptions): { forget(authorization: string): void } {
  const trusted = new LRUCache<string, Principal>({ max: 10_000, ttl: Math.max(options.cacheSeconds, 0.001) * 1000 });
  const failures = new RateLimiterMemory({ points: options.failuresPerMinute, duration: 60 });

  const refuse = (request: FastifyRequest, reply: FastifyReply, message: string) => {
    // Browsers opening the docs page get a login prompt; API clients get a plain 401.
    if (request.url.startsWith('/docs')) reply.header('www-authenticate', 'Basic realm="Assistants API", charset="UTF-8"');
    return reply.code(401).send({ error: 'unauthenticated', message });
  };

  app.decorateRequest('principal', undefined as unknown as Principal);

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.anonymous) return;
    const credential = credentialOf(request.headers.authorization);
    if (!credential) {
      return refuse(request, reply, 'credentials required: Authorization: Bearer <token from POST /v1/sessions>, or Basic');
    }
    const key = cacheKey(request.headers.authorization!);
    let principal = trusted.get(key);
    if (!principal) {
      const seen = await failures.get(request.ip);
      if (seen && seen.remainingPoints <= 0) {
        reply.header('retry-after', Math.ceil(seen.msBeforeNext / 1000));
        return reply.code(429).send({ error: 'too_many_failures', message: 'too many failed authentications: wait and retry' });
      }
      try {
        principal = (await options.identity.auth.authenticate(credential)).principal!;
        trusted.set(key, principal);
      } catch (err) {
        if (!(err instanceof DomainError) || err.code !== 'UNAUTHENTICATED') throw err;
        await failures.penalty(request.ip);
        request.log.info({ reason: 'credentials refused' }, 'authentication failed');
        return refuse(request, reply, 'invalid credentials');
      }
    }
    request.principal = principal;
    bindActor(principal.userId);
  });

  return {
    /** After logout or a password change: this replica forgets the credential now, others
     * within the cache time. */
    forget: (authorization) => void trusted.delete(cacheKey(authorization)),
  };
}

function cacheKey(authorization: string): string {
  return createHash('sha256').update(authorization).digest('hex');
}

/** Ids are lower-case UUIDs everywhere behind the gateway: "ABC…" and "abc…" name the same
 * object, so they are made the same here, at the edge, before anything compares them.
 * Only fields named id, …Id or …Ids are touched, never free text. */
export function normaliseIds(value: unknown, key = ''): unknown {
  const isIdKey = key === 'id' || key === 'ids' || /Ids?$/.test(key);
  if (typeof value === 'string') return isIdKey && UUID.test(value) ? value.toLowerCase() : value;
  if (Array.isArray(value)) return value.map((v) => normaliseIds(v, isIdKey ? key : ''));
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) (value as Record<string, unknown>)[k] = normaliseIds(v, k);
  }
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
