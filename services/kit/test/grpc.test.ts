import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generate } from 'selfsigned';
import {
  checkGrpcHealth,
  createLogger,
  currentContext,
  DomainError,
  grpcClient,
  implement,
  remainingMs,
  startGrpcServer,
  withContext,
  type GrpcSecurity,
  type GrpcServer,
} from '../src';

/** A one-method service with JSON messages, enough to see what travels with a call. */
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (buffer: Buffer) => JSON.parse(buffer.toString()),
};
const EchoService: grpc.ServiceDefinition = {
  echo: {
    path: '/kittest.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const EchoClient = grpc.makeGenericClientConstructor(EchoService, 'Echo') as unknown as {
  new (address: string, credentials: grpc.ChannelCredentials): grpc.Client & { echo: grpc.requestCallback<unknown> };
  service: grpc.ServiceDefinition;
};

interface Seen {
  text: string;
  actorId: string;
  correlationId: string;
  remainingMs: number;
}

const logger = createLogger('grpc-test', 'silent');
const token = randomBytes(32).toString('base64url');
let calls = 0;

async function startEcho(security: GrpcSecurity): Promise<GrpcServer> {
  const implementation = implement<grpc.UntypedServiceImplementation>(logger, {
    echo: async (request: unknown, call: { actorId: string; correlationId: string }) => {
      calls++;
      const { text } = request as { text: string };
      if (text === 'refuse') throw new DomainError('FAILED_PRECONDITION', 'refused on purpose', 'text');
      return {
        text,
        actorId: call.actorId,
        correlationId: currentContext()!.correlationId,
        remainingMs: remainingMs() ?? -1,
      } satisfies Seen;
    },
  } as never);
  return startGrpcServer({ host: '127.0.0.1', port: 0, services: [[EchoService, implementation]], security, logger });
}

const echo = (security: GrpcSecurity, port: number, timeoutMs = 5000) =>
  grpcClient(EchoClient as never, `localhost:${port}`, { security, serviceName: 'echo', timeoutMs }) as unknown as {
    echo(request: { text: string }): Promise<Seen>;
    close(): void;
  };

describe('service credentials', () => {
  let server: GrpcServer;

  beforeAll(async () => {
    server = await startEcho({ serviceToken: token });
  });
  afterAll(() => server.stop());

  it('carry the acting user, the correlation id and the deadline to the handler', async () => {
    const client = echo({ serviceToken: token }, server.port, 4000);
    const seen = await withContext({ correlationId: 'corr-7', actorId: 'user-42' }, () => client.echo({ text: 'hi' }));
    expect(seen).toMatchObject({ text: 'hi', actorId: 'user-42', correlationId: 'corr-7' });
    expect(seen.remainingMs).toBeGreaterThan(3000);
    expect(seen.remainingMs).toBeLessThanOrEqual(4000);
    // A nearer deadline of the caller's own context wins.
    const near = await withContext({ deadline: Date.now() + 1500 }, () => client.echo({ text: 'soon' }));
    expect(near.remainingMs).toBeLessThanOrEqual(1500);
    client.close();
  });

  it('refuse a call without the service token, before any handler runs', async () => {
    const before = calls;
    for (const security of [{ serviceToken: 'x'.repeat(43) }, { serviceToken: '' }]) {
      const client = echo(security, server.port);
      // Not a refusal meant for an end user (a DomainError): a misconfigured part, which
      // the gateway answers with a 500 and its logs explain.
      const err = await client.echo({ text: 'let me in' }).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(DomainError);
      expect(err).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'service credentials required' });
      client.close();
    }
    expect(calls).toBe(before);
    // Health needs no token: Kubernetes probes have none.
    expect(await checkGrpcHealth(`127.0.0.1:${server.port}`, { security: { serviceToken: '' } })).toBe(true);
  });

  it('keep a service refusal as it was said, and hide transport details', async () => {
    const client = echo({ serviceToken: token }, server.port);
    await expect(client.echo({ text: 'refuse' })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'refused on purpose',
      field: 'text',
    });
    client.close();

    const stopped = await startEcho({ serviceToken: token });
    const port = stopped.port;
    await stopped.stop();
    const unreachable = echo({ serviceToken: token }, port);
    const err = (await unreachable.echo({ text: 'anyone?' }).catch((e: unknown) => e)) as DomainError;
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe('echo is unavailable, try again shortly');
    expect(err.message).not.toMatch(/localhost|127\.0\.0\.1|ECONNREFUSED|\d{4,5}/);
    unreachable.close();
  });
});

describe('TLS', () => {
  let server: GrpcServer;
  let tls: { cert: Buffer; key: Buffer; ca: Buffer };

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    tls = { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), ca: Buffer.from(pems.cert) };
    server = await startEcho({ serviceToken: token, tls });
  });
  afterAll(() => server.stop());

  it('serves clients that trust its authority, and no plain-text client', async () => {
    const client = echo({ serviceToken: token, tls }, server.port);
    expect((await client.echo({ text: 'over tls' })).text).toBe('over tls');
    client.close();
    expect(await checkGrpcHealth(`localhost:${server.port}`, { security: { serviceToken: '', tls } })).toBe(true);

    const plain = echo({ serviceToken: token }, server.port, 2000);
    await expect(plain.echo({ text: 'in clear' })).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
    plain.close();
  });
});
