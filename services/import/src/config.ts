import { Type, type Static } from '@sinclair/typebox';

/** The import service's own environment variables (the kit adds the common ones:
 * IMPORT_GRPC_PORT, IMPORT_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const ImportConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants, organisations and users imports' }),
  NOTIFICATION_ADDRESS: Type.String({ default: '127.0.0.1:50054', description: 'notification: the welcome mails of imported users' }),
  STATISTICS_ADDRESS: Type.String({
    default: '127.0.0.1:50055',
    description: 'statistics: lesson and course statistics, external trainings',
  }),
  ASSIGNMENT_ADDRESS: Type.String({
    default: '127.0.0.1:50053',
    description: 'assignment: course and curriculum assignment imports, the courses a statistics import assigns',
  }),
  CATALOG_ADDRESS: Type.String({
    default: '127.0.0.1:50052',
    description: 'catalog: instructor-led session imports (I8)',
  }),
  IMPORT_UPSTREAM_TIMEOUT_MS: Type.Integer({
    default: 120_000,
    minimum: 100,
    description: 'deadline of a call to an owning service (one chunk)',
  }),
  IMPORT_MAX_FILE_BYTES: Type.Integer({ default: 200 * 1024 * 1024, minimum: 1, description: 'largest file accepted' }),
  IMPORT_MAX_RECORD_CHARS: Type.Integer({
    default: 1024 * 1024,
    minimum: 100,
    description: 'longest row accepted (a longer one stops the file: a quote never closed swallows the rest of the file)',
  }),
  IMPORT_CHUNK_ROWS: Type.Integer({
    default: 1000,
    minimum: 1,
    maximum: 5000,
    description: 'rows per chunk: one call to the owning service, one transaction here',
  }),
  IMPORT_KEYS_IN_MEMORY: Type.Integer({
    default: 100_000,
    minimum: 0,
    description: "keys of a file kept in memory to find repeated keys; the following ones go to the job's keys table (memory stays flat)",
  }),
  IMPORT_WORKER_POLL_MS: Type.Integer({ default: 1000, minimum: 10, description: 'how often an idle replica looks for a job' }),
  IMPORT_LEASE_SECONDS: Type.Integer({
    default: 60,
    minimum: 1,
    description: 'how long a job stays with its replica without progress before another takes it over (a killed replica)',
  }),
  IMPORT_WORKER_ENABLED: Type.Boolean({ default: true, description: 'false: this replica accepts uploads and jobs but runs none' }),
  IMPORT_SECRET_KEY: Type.String({
    minLength: 32,
    description: 'encrypts (AES-256-GCM) the generated passwords of a chunk until its welcome mails are queued',
  }),
  IMPORT_KEEP_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'finished jobs (counts, log, rejects) and their files are deleted this many days after they end',
  }),
  IMPORT_UPLOAD_KEEP_HOURS: Type.Integer({
    default: 24,
    minimum: 1,
    description: 'an upload never started is deleted after this many hours',
  }),
  IMPORT_PRUNE_INTERVAL_MINUTES: Type.Integer({
    default: 60,
    minimum: 1,
    description: 'how often each replica deletes what is past retention',
  }),
});

export type ImportConfig = Static<typeof ImportConfigSchema>;
