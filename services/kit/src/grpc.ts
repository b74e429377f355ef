import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ACTOR_HEADER, CORRELATION_HEADER, currentContext, withContext } from './context';
import { asDomainError, fromGrpcError, toGrpcError } from './errors';
import { channelCredentials, type GrpcSecurity } from './grpc-health';
import type { Logger } from './logger';
import { counter, histogram } from './metrics';

export { checkGrpcHealth, type GrpcSecurity } from './grpc-health';

const AUTHORIZATION = 'authorization';

export interface RpcContext {
  correlationId: string;
  /** The user on whose behalf the call is made, as the calling part says (it is trusted
   * because it holds the service token); "" when the call acts for no user. */
  actorId: string;
  metadata: grpc.Metadata;
}

/** The named unary methods of a ts-proto server interface, written as async functions. */
export type AsyncHandlers<S> = {
  [K in keyof S as string extends K ? never : K]: S[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? (request: Req, context: RpcContext) => Promise<Res>
    : never;
};

/** Turns async handlers into a grpc-js service implementation: each call runs with the
 * caller's correlation id, acting user and deadline, and every error becomes a gRPC status
 * in one place (see errors.ts): refusals are logged at info, failures at error with the
 * error id that the caller receives. */
export function implement<S extends grpc.UntypedServiceImplementation>(logger: Logger, handlers: AsyncHandlers<S>): S {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (r: unknown, c: RpcContext) => Promise<unknown>][]) {
    implementation[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const correlationId = String(call.metadata.get(CORRELATION_HEADER)[0] ?? '') || randomUUID();
      const actorId = String(call.metadata.get(ACTOR_HEADER)[0] ?? '');
      const deadline = Number(call.getDeadline());
      const context = { correlationId, actorId: actorId || undefined, deadline: Number.isFinite(deadline) ? deadline : undefined };
      void withContext(context, async () => {
        const started = performance.now();
        try {
          const response = await handler(call.request, { correlationId, actorId, metadata: call.metadata });
          logger.debug({ rpc: name, ms: Math.round(performance.now() - started) }, 'rpc done');
          callback(null, response);
        } catch (err) {
          const errorId = randomUUID();
          const domain = asDomainError(err);
          if (domain?.code === 'ABORTED') {
            // The caller sends it again; which rows met which transaction is in PostgreSQL's error.
            logger.warn({ rpc: name, err }, 'rpc rolled back by a concurrent change');
          } else if (domain) {
            logger.info({ rpc: name, code: domain.code, field: domain.field, reason: domain.message }, 'rpc refused');
          } else {
            logger.error({ rpc: name, errorId, err }, 'rpc failed');
          }
          callback(toGrpcError(err, errorId));
        }
      });
    };
  }
  return implementation as S;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Wraps every method of a service so that a call without the service token is refused
 * before its handler runs. */
function guarded(implementation: grpc.UntypedServiceImplementation, token: string, logger: Logger): grpc.UntypedServiceImplementation {
  const expected = digest(`Bearer ${token}`);
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(implementation)) {
    wrapped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const given = String(call.metadata.get(AUTHORIZATION)[0] ?? '');
      if (!timingSafeEqual(digest(given), expected)) {
        logger.warn({ rpc: name, peer: call.getPeer() }, 'call without a valid service token refused');
        callback({ code: grpc.status.UNAUTHENTICATED, details: 'service credentials required' });
        return;
      }
      (method as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  return wrapped;
}

const GRPC_LABELS = ['grpc_service', 'grpc_method'] as const;
const grpcHandled = counter('grpc_server_handled_total', 'gRPC calls answered, by service, method and status code', [
  ...GRPC_LABELS,
  'grpc_code',
]);
const grpcSeconds = histogram(
  'grpc_server_handling_seconds',
  'time from a gRPC call’s arrival to its answer, by service and method',
  GRPC_LABELS,
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);

/** Counts and times every call of a service's methods (refusals without the token
 * included): its code is the status it is answered with (OK, INVALID_ARGUMENT, INTERNAL…). */
function instrumented(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(implementation)) {
    // '/identity.v1.UserService/GetUser'
    const [, service = '', rpc = name] = (definition[name]?.path ?? '').split('/');
    const labels = { grpc_service: service, grpc_method: rpc };
    wrapped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const end = grpcSeconds.startTimer(labels);
      (method as grpc.handleUnaryCall<unknown, unknown>)(call, (err, value, trailer, flags) => {
        end();
        const code = err ? (err.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        grpcHandled.inc({ ...labels, grpc_code: grpc.status[code] ?? 'UNKNOWN' });
        callback(err, value, trailer, flags);
      });
    }) as grpc.UntypedHandleCall;
  }
  return wrapped;
}

export interface GrpcServer {
  port: number;
  stop(): Promise<void>;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  security: GrpcSecurity;
  logger: Logger;
}

/** Starts a gRPC server with grpc.health.v1 answering SERVING for the whole server ("")
 * and for each service by its full name, until stop() turns them to NOT_SERVING. Health
 * needs no token (Kubernetes probes); every other call does. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { security, logger } = options;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const names = ['', ...options.services.map(([definition]) => serviceName(definition))];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  health.addToServer(server);
  for (const [definition, implementation] of options.services) {
    server.addService(definition, instrumented(definition, guarded(implementation, security.serviceToken, logger)));
  }
  const credentials = security.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: security.tls.cert, private_key: security.tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  for (const name of names) health.setStatus(name, 'SERVING');
  logger.info({ port, tls: Boolean(security.tls) }, 'gRPC server listening');
  return {
    port,
    async stop() {
      for (const name of names) health.setStatus(name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

function serviceName(definition: grpc.ServiceDefinition): string {
  const path = Object.values(definition)[0]?.path ?? '';
  return path.split('/')[1] ?? '';
}

/** A ts-proto grpc-js client's unary methods as promises. */
export type PromiseClient<C> = {
  [
    K in keyof C as C[K] extends (
      request: never,
      metadata: grpc.Metadata,
      options: Partial<grpc.CallOptions>,
      callback: never,
    ) => grpc.ClientUnaryCall
      ? K
      : never
  ]: C[K] extends (
    request: infer Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: infer Res) => void,
  ) => grpc.ClientUnaryCall
    ? (request: Req) => Promise<Res>
    : never;
};

type ClientConstructor<C> = {
  new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>): C;
  service: grpc.ServiceDefinition;
};

export interface GrpcClientOptions {
  security: GrpcSecurity;
  /** Named in the errors callers see when it cannot be reached ("identity is unavailable"). */
  serviceName: string;
  /** Deadline of each call when the current context has none nearer. */
  timeoutMs?: number;
}

/** A client of one gRPC service whose calls return promises, carry the service token, the
 * current correlation id and acting user, have a deadline (the current context's, when it
 * is nearer), and fail with DomainErrors for the statuses services answer. */
export function grpcClient<C extends grpc.Client>(
  Client: ClientConstructor<C>,
  address: string,
  options: GrpcClientOptions,
): PromiseClient<C> & { close(): void } {
  const client = new Client(address, channelCredentials(options.security)) as C & Record<string, Function>;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const methods: Record<string, unknown> = { close: () => client.close() };
  for (const name of Object.keys(Client.service)) {
    methods[name] = (request: unknown) =>
      new Promise((resolve, reject) => {
        const metadata = new grpc.Metadata();
        metadata.set(AUTHORIZATION, `Bearer ${options.security.serviceToken}`);
        const context = currentContext();
        if (context?.correlationId) metadata.set(CORRELATION_HEADER, context.correlationId);
        if (context?.actorId) metadata.set(ACTOR_HEADER, context.actorId);
        const deadline = Math.min(Date.now() + timeoutMs, context?.deadline ?? Infinity);
        client[name](request, metadata, { deadline }, (err: grpc.ServiceError | null, res: unknown) =>
          err ? reject(fromGrpcError(err, options.serviceName)) : resolve(res),
        );
      });
  }
  return methods as PromiseClient<C> & { close(): void };
}
