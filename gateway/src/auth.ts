import { createHash } from 'node:crypto';
import { ALL_PERMISSIONS, DomainError, permissionDenied, ROOT_ORGANISATION_ID, type Permission } from '@assistants/kit';
import type { AuthenticateRequest, Principal } from '@assistants/proto/gen/identity/v1/auth';
import type { Scope } from '@assistants/proto/gen/identity/v1/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { IdentityClients } from './clients';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** Where the route's permission holds: what identity lets this request see and change. */
    scope: Scope;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; routes without one need only a valid credential. */
    permission?: Permission;
    /** The permission must hold on the root organisation (global objects: audiences, roles). */
    global?: boolean;
  }
}

/** The organisations where `principal` holds `permission`, as an identity Scope; undefined
 * when it holds nowhere. A grant on the root means everywhere. */
export function scopeFor(principal: Principal, permission: string): Scope | undefined {
  const grants = principal.grants.filter((g) => g.permissions.includes(permission) || g.permissions.includes(ALL_PERMISSIONS));
  if (grants.length === 0) return undefined;
  if (grants.some((g) => g.organisationId === ROOT_ORGANISATION_ID)) return { all: true, organisationIds: [] };
  return { all: false, organisationIds: [...new Set(grants.map((g) => g.organisationId))] };
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
  identity: IdentityClients;
  failuresPerMinute: number;
  cacheSeconds: number;
}

/** Every route needs a credential: a bearer token from POST /v1/sessions, or a login and
 * password (HTTP Basic). Checked credentials are trusted for a few seconds; failures are
 * counted per client address and, past the limit, refused before they reach identity. */
export function registerAuthentication(app: FastifyInstance, options: AuthOptions): { forget(authorization: string): void } {
  const trusted = new LRUCache<string, Principal>({ max: 10_000, ttl: Math.max(options.cacheSeconds, 0.001) * 1000 });
  const failures = new RateLimiterMemory({ points: options.failuresPerMinute, duration: 60 });

  const refuse = (request: FastifyRequest, reply: FastifyReply, message: string) => {
    // Browsers opening the docs page get a login prompt; API clients get a plain 401.
    if (request.url.startsWith('/docs')) reply.header('www-authenticate', 'Basic realm="Assistants API", charset="UTF-8"');
    return reply.code(401).send({ error: 'unauthenticated', message });
  };

  app.decorateRequest('principal', undefined as unknown as Principal);
  app.decorateRequest('scope', undefined as unknown as Scope);

  app.addHook('onRequest', async (request, reply) => {
    const credential = credentialOf(request.headers.authorization);
    if (!credential) {
      return refuse(request, reply, 'credentials required: Authorization: Bearer <token from POST /v1/sessions>, or Basic');
    }
    const key = cacheKey(request.headers.authorization!);
    const cached = trusted.get(key);
    if (cached) {
      request.principal = cached;
      return;
    }
    const seen = await failures.get(request.ip);
    if (seen && seen.remainingPoints <= 0) {
      reply.header('retry-after', Math.ceil(seen.msBeforeNext / 1000));
      return reply.code(429).send({ error: 'too_many_failures', message: 'too many failed authentications: wait and retry' });
    }
    try {
      const { principal } = await options.identity.auth.authenticate(credential);
      request.principal = principal!;
      trusted.set(key, principal!);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'UNAUTHENTICATED') throw err;
      await failures.penalty(request.ip);
      request.log.info({ reason: 'credentials refused' }, 'authentication failed');
      return refuse(request, reply, 'invalid credentials');
    }
  });

  app.addHook('preHandler', async (request) => {
    const { permission, global } = request.routeOptions.config;
    if (!permission) return;
    const scope = scopeFor(request.principal, permission);
    if (!scope || (global && !scope.all)) {
      throw permissionDenied(`this needs the permission ${permission}${global ? ' on the root organisation' : ''}`);
    }
    request.scope = scope;
  });

  return {
    /** After logout: this replica forgets the token now, others within the cache time. */
    forget: (authorization) => void trusted.delete(cacheKey(authorization)),
  };
}

function cacheKey(authorization: string): string {
  return createHash('sha256').update(authorization).digest('hex');
}
