import { SecurityConfigSchema } from '@assistants/kit';
import { Type, type Static } from '@sinclair/typebox';

/** Environment variables of the gateway (see the README's configuration table). */
export const GatewayConfigSchema = Type.Object({
  ...SecurityConfigSchema.properties,
  GATEWAY_HOST: Type.String({ default: '127.0.0.1' }),
  GATEWAY_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  /** /healthz, /readyz and /metrics (Prometheus), apart from the API so that no API route is anonymous. */
  GATEWAY_HEALTH_PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535 }),
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051' }),
  CATALOG_ADDRESS: Type.String({ default: '127.0.0.1:50052' }),
  ASSIGNMENT_ADDRESS: Type.String({ default: '127.0.0.1:50053' }),
  NOTIFICATION_ADDRESS: Type.String({ default: '127.0.0.1:50054' }),
  STATISTICS_ADDRESS: Type.String({ default: '127.0.0.1:50055' }),
  IMPORT_ADDRESS: Type.String({ default: '127.0.0.1:50056' }),
  ASSESSMENT_ADDRESS: Type.String({ default: '127.0.0.1:50057' }),
  /** Largest file an import upload takes (streamed to the import service, never held whole). */
  GATEWAY_IMPORT_MAX_FILE_BYTES: Type.Integer({ default: 200 * 1024 * 1024, minimum: 1 }),
  /** Behind a load balancer: take the client address from X-Forwarded-For (rate limits). */
  GATEWAY_TRUST_PROXY: Type.Boolean({ default: false }),
  GATEWAY_BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024 }),
  /** Requests per minute and per caller (its user, or its address before authentication). */
  GATEWAY_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 6000, minimum: 1 }),
  GATEWAY_AUTH_FAILURES_PER_MINUTE: Type.Integer({ default: 10, minimum: 1 }),
  /** How long a checked credential is trusted before identity is asked again. */
  GATEWAY_AUTH_CACHE_SECONDS: Type.Integer({ default: 10, minimum: 0, maximum: 300 }),
  /** API requests this process works on at once; the others wait, callers taking turns
   * (admission.ts). Enough to keep the services and the database busy, few enough that they
   * do not thrash: bench:gateway, see BENCHMARKS.md. */
  GATEWAY_CONCURRENT_REQUESTS: Type.Integer({ default: 32, minimum: 1, maximum: 10_000 }),
  /** Requests waiting for their turn at most; past that, 503 at once. */
  GATEWAY_QUEUED_REQUESTS: Type.Integer({ default: 2_000, minimum: 0 }),
  /** Requests of one caller (one credential) waiting at most: a script cannot fill the queue. */
  GATEWAY_QUEUED_REQUESTS_PER_CALLER: Type.Integer({ default: 100, minimum: 0 }),
  /** The longest a request waits for its turn before 503. */
  GATEWAY_QUEUE_WAIT_MS: Type.Integer({ default: 10_000, minimum: 1 }),
  /** Deadline of each call to a service; the service stops its statements then too. */
  GATEWAY_UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100 }),
  /** The gateway's own database (runs): its URL, or a database shared by schema "gateway". */
  GATEWAY_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  /** Embedded PGlite data when no database URL is set (npm start). */
  GATEWAY_DATA_DIR: Type.String({ default: '.data/gateway' }),
  GATEWAY_DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 2, maximum: 200 }),
  /** Items of a run sent to the owning service in one call (one idempotent batch). */
  GATEWAY_RUN_BATCH_SIZE: Type.Integer({ default: 1000, minimum: 1, maximum: 5000 }),
  /** Batches this process works on at once; 0 makes it an API-only replica. A batch mostly
   * waits (gRPC round trips, commits): 6 in flight keep two cores busy (bench:assign: 2 →
   * 21.1 s, 4 → 19.5 s, 6 → 16.5–17.3 s, 8 → 16.4 s). */
  GATEWAY_RUN_CONCURRENCY: Type.Integer({ default: 6, minimum: 0, maximum: 64 }),
  /** How long a claimed batch stays with its process without news (renewed while it works):
   * after that, another replica takes it over (a killed gateway). */
  GATEWAY_RUN_LEASE_SECONDS: Type.Integer({ default: 60, minimum: 1, maximum: 3600 }),
  /** How often a working worker looks for batches that other replicas created or released. */
  GATEWAY_RUN_POLL_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 60_000 }),
  /** An idle worker looks twice as late after each look that found nothing, up to this (an
   * idle gateway's CPU is mostly these looks: bench:idle). Work created on the same gateway
   * starts at once; another replica joins a run within this time. */
  GATEWAY_RUN_IDLE_POLL_MS: Type.Integer({ default: 5000, minimum: 10, maximum: 60_000 }),
  /** The most items one run may freeze. */
  GATEWAY_RUN_MAX_ITEMS: Type.Integer({ default: 1_000_000, minimum: 1 }),
});

export type GatewayConfig = Static<typeof GatewayConfigSchema>;
