import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { CORRELATION_HEADER, currentCorrelationId, withCorrelationId } from './context';
import { DomainError, fromGrpcError, toGrpcError } from './errors';
import type { Logger } from './logger';

export interface CallContext {
  correlationId: string;
  metadata: grpc.Metadata;
}

/** The named unary methods of a ts-proto server interface, written as async functions. */
export type AsyncHandlers<S> = {
  [K in keyof S as string extends K ? never : K]: S[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? (request: Req, context: CallContext) => Promise<Res>
    : never;
};

/** Turns async handlers into a grpc-js service implementation: each call runs with the
 * caller's correlation id, and every error becomes a gRPC status in one place (see
 * errors.ts): refusals are logged at info, failures at error with the error id that the
 * caller receives. */
export function implement<S extends grpc.UntypedServiceImplementation>(logger: Logger, handlers: AsyncHandlers<S>): S {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (r: unknown, c: CallContext) => Promise<unknown>][]) {
    implementation[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const correlationId = String(call.metadata.get(CORRELATION_HEADER)[0] ?? '') || randomUUID();
      void withCorrelationId(correlationId, async () => {
        const started = performance.now();
        try {
          const response = await handler(call.request, { correlationId, metadata: call.metadata });
          logger.debug({ rpc: name, ms: Math.round(performance.now() - started) }, 'rpc done');
          callback(null, response);
        } catch (err) {
          const errorId = randomUUID();
          if (err instanceof DomainError) {
            logger.info({ rpc: name, code: err.code, field: err.field, reason: err.message }, 'rpc refused');
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

export interface GrpcServer {
  port: number;
  stop(): Promise<void>;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  logger: Logger;
}

/** Starts a gRPC server with grpc.health.v1 answering SERVING for the whole server ("")
 * and for each service by its full name, until stop() turns them to NOT_SERVING. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const names = ['', ...options.services.map(([definition]) => serviceName(definition))];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  health.addToServer(server);
  for (const [definition, implementation] of options.services) server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  for (const name of names) health.setStatus(name, 'SERVING');
  options.logger.info({ port }, 'gRPC server listening');
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

/** A client of one gRPC service whose calls return promises, carry the current correlation
 * id, have a deadline, and fail with DomainErrors for the statuses services answer. */
export function grpcClient<C extends grpc.Client>(
  Client: ClientConstructor<C>,
  address: string,
  options: { timeoutMs?: number } = {},
): PromiseClient<C> & { close(): void } {
  const client = new Client(address, grpc.credentials.createInsecure()) as C & Record<string, Function>;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const methods: Record<string, unknown> = { close: () => client.close() };
  for (const name of Object.keys(Client.service)) {
    methods[name] = (request: unknown) =>
      new Promise((resolve, reject) => {
        const metadata = new grpc.Metadata();
        const correlationId = currentCorrelationId();
        if (correlationId) metadata.set(CORRELATION_HEADER, correlationId);
        client[name](request, metadata, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: unknown) =>
          err ? reject(fromGrpcError(err)) : resolve(res),
        );
      });
  }
  return methods as PromiseClient<C> & { close(): void };
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/** Asks a server's grpc.health.v1 whether `service` ("" for the whole server) is SERVING. */
export function checkGrpcHealth(address: string, service = '', timeoutMs = 2000): Promise<boolean> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise<boolean>((resolve) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err: Error | null, res: { status: unknown }) => {
      client.close();
      resolve(!err && (res.status === 'SERVING' || res.status === 1));
    });
  });
}
