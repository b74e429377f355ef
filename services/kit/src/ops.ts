import type * as grpc from '@grpc/grpc-js';
import { OpsServiceService, type OpsServiceServer } from '@assistants/proto/gen/ops/v1/ops';
import type { Consumer } from './consumer';
import type { Database } from './db';
import { deadLetterCount, discardDeadLetters, listDeadLetters } from './dead-letters';
import { invalidArgument, permissionDenied, unauthenticated } from './errors';
import { implement, type RpcContext } from './grpc';
import type { Logger } from './logger';
import { listUnpublishable, outboxStatus, retryUnpublishable } from './outbox';
import { ALL_PERMISSIONS, OPS_PERMISSION, ROOT_ORGANISATION_ID } from './permissions';

/** A user's role grants, as the kit reads them for its own checks. */
export interface PrincipalGrants {
  grants: { organisationId: string; permissions: string[] }[];
}

/** Where a service finds the grants of the acting user of a call: identity reads its own
 * tables, the other services ask identity (GetPrincipal). Refuses (UNAUTHENTICATED) a user
 * that may not act. */
export type PrincipalSource = (actorId: string) => Promise<PrincipalGrants>;

function page(limit: number, offset: number) {
  if (limit > 500) throw invalidArgument('limit', 'limit must be at most 500');
  return { limit: limit || 50, offset };
}

/** The OpsService of one service (see proto/ops/v1/ops.proto), over its own outbox and
 * consumers. */
export function opsGrpcService(options: {
  name: string;
  db: Database;
  consumers: () => Consumer[];
  principals: PrincipalSource;
  logger: Logger;
}): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const { name, db, principals, logger } = options;

  /** Operators only: events:manage (or every permission) through a grant on the root. */
  const requireOperator = async (call: RpcContext) => {
    if (!call.actorId) throw unauthenticated('this call needs an acting user');
    const { grants } = await principals(call.actorId);
    const allowed = grants.some(
      (g) =>
        g.organisationId === ROOT_ORGANISATION_ID && (g.permissions.includes(OPS_PERMISSION) || g.permissions.includes(ALL_PERMISSIONS)),
    );
    if (!allowed) throw permissionDenied(`this needs the permission ${OPS_PERMISSION} on the root organisation`);
  };

  const implementation = implement<OpsServiceServer>(logger, {
    getEventStatus: async (_req, call) => {
      await requireOperator(call);
      const [status, letters] = await Promise.all([outboxStatus(db), deadLetterCount(db)]);
      const durables = new Set([...options.consumers().map((c) => c.durable), ...Object.keys(letters)]);
      return {
        service: name,
        ...status,
        consumers: [...durables].sort().map((durable) => ({ durable, deadLetters: letters[durable] ?? 0 })),
      };
    },
    listUnpublishableEvents: async (req, call) => {
      await requireOperator(call);
      const [events, status] = await Promise.all([listUnpublishable(db, page(req.limit, req.offset)), outboxStatus(db)]);
      return {
        events: events.map((e) => ({
          seq: e.seq,
          subject: e.subject,
          eventId: e.eventId,
          reason: e.reason,
          createdAt: e.createdAt.toISOString(),
          movedAt: e.movedAt.toISOString(),
          envelopeJson: JSON.stringify(e.envelope),
        })),
        total: status.unpublishable,
      };
    },
    retryUnpublishableEvents: async (req, call) => {
      await requireOperator(call);
      return { retried: await retryUnpublishable(db, req.seqs) };
    },
    listDeadLetters: async (req, call) => {
      await requireOperator(call);
      const [letters, counts] = await Promise.all([
        listDeadLetters(db, { consumer: req.consumer || undefined, ...page(req.limit, req.offset) }),
        deadLetterCount(db),
      ]);
      return {
        deadLetters: letters.map((l) => ({
          id: l.id,
          consumer: l.consumer,
          subject: l.subject,
          eventId: l.eventId,
          error: l.error,
          deliveries: l.deliveries,
          failedAt: l.failedAt.toISOString(),
          envelopeJson: typeof l.envelope === 'string' ? l.envelope : JSON.stringify(l.envelope),
        })),
        total: req.consumer ? (counts[req.consumer] ?? 0) : Object.values(counts).reduce((a, b) => a + b, 0),
      };
    },
    replayDeadLetters: async (req, call) => {
      await requireOperator(call);
      // Each consumer replays its own; an id no consumer of this service knows is not found.
      let remaining = [...new Set(req.ids)];
      const result = { replayed: 0, failed: [] as { id: string; error: string }[] };
      for (const consumer of options.consumers()) {
        if (remaining.length === 0) break;
        const outcome = await consumer.replay(remaining);
        result.replayed += outcome.replayed.length;
        result.failed.push(...outcome.failed);
        remaining = outcome.notFound;
      }
      return { ...result, notFound: remaining };
    },
    discardDeadLetters: async (req, call) => {
      await requireOperator(call);
      return { discarded: await discardDeadLetters(db, req.ids) };
    },
  });
  return [OpsServiceService, implementation];
}
