import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

// What the container health check needs of gRPC (healthcheck.ts), apart from grpc.ts so that
// a check every few seconds loads neither the server side nor the metrics.

/** How the parts of the suite know each other on the internal network: every call carries
 * the service token (checked by every server before any handler runs), and, when
 * configured, travels over TLS. Reaching a service's port is not enough to call it. */
export interface GrpcSecurity {
  /** Shared by the parts of the suite; sent as `authorization: Bearer <token>` on each call. */
  serviceToken: string;
  /** PEM contents. The server presents cert/key; clients trust `ca`. */
  tls?: { cert: Buffer; key: Buffer; ca: Buffer };
}

export function channelCredentials(security: GrpcSecurity): grpc.ChannelCredentials {
  return security.tls ? grpc.credentials.createSsl(security.tls.ca) : grpc.credentials.createInsecure();
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/** Asks a server's grpc.health.v1 whether `service` ("" for the whole server) is SERVING. */
export function checkGrpcHealth(
  address: string,
  options: { security: GrpcSecurity; service?: string; timeoutMs?: number },
): Promise<boolean> {
  const client = new HealthClient(address, channelCredentials(options.security));
  return new Promise<boolean>((resolve) => {
    client.check(
      { service: options.service ?? '' },
      { deadline: Date.now() + (options.timeoutMs ?? 2000) },
      (err: Error | null, res: { status: unknown }) => {
        client.close();
        resolve(!err && (res.status === 'SERVING' || res.status === 1));
      },
    );
  });
}
