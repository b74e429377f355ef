import { checkGrpcHealth, METRICS_CONTENT_TYPE, metricsText, type GrpcSecurity } from '@assistants/kit';
import Fastify, { type FastifyInstance } from 'fastify';

/** /healthz (the process answers) and /readyz (and the services it calls are SERVING, and
 * its own checks pass: its database), on their own port for Kubernetes probes, so that the
 * API itself has no anonymous route; /metrics for Prometheus there too (counts and timings
 * only; the NetworkPolicy lets only the monitoring namespace reach this port). */
export async function startHealthServer(options: {
  host: string;
  port: number;
  upstreams: Record<string, string>;
  security: GrpcSecurity;
  checks?: Record<string, () => Promise<boolean>>;
}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metricsText()));
  app.get('/readyz', async (_request, reply) => {
    const checks = Object.fromEntries(
      await Promise.all([
        ...Object.entries(options.upstreams).map(
          async ([name, address]) => [name, await checkGrpcHealth(address, { security: options.security })] as const,
        ),
        ...Object.entries(options.checks ?? {}).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
      ]),
    );
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  await app.listen({ host: options.host, port: options.port });
  return app;
}
