import { Type, type Static } from '@sinclair/typebox';

/** The notification service's own environment variables (the kit adds the common ones:
 * NOTIFICATION_GRPC_PORT, NOTIFICATION_DATABASE_URL, NATS_URL, ASSISTANTS_SERVICE_TOKEN...). */
export const NotificationConfigSchema = Type.Object({
  IDENTITY_ADDRESS: Type.String({ default: '127.0.0.1:50051', description: 'identity: grants, the users a mail goes to' }),
  NOTIFICATION_UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100, description: 'deadline of a call to identity' }),
  NOTIFICATION_PLATFORM_URL: Type.String({
    default: 'http://localhost:3000',
    description: 'the LMS address mails link to ({{ platform_url }})',
  }),
  NOTIFICATION_SECRET_KEY: Type.String({
    minLength: 32,
    description: 'encrypts generated passwords (AES-256-GCM) while their welcome mail waits to be sent',
  }),
  NOTIFICATION_MAIL_FROM: Type.String({ default: 'Assistants <no-reply@assistants.local>', description: 'the From of every mail' }),
  NOTIFICATION_MESSAGE_ID_DOMAIN: Type.String({ default: 'assistants.local', description: 'right-hand side of the Message-IDs' }),
  NOTIFICATION_SMTP_HOST: Type.String({ default: '127.0.0.1' }),
  NOTIFICATION_SMTP_PORT: Type.Integer({ default: 1025, minimum: 1, maximum: 65535 }),
  NOTIFICATION_SMTP_SECURE: Type.Boolean({
    default: false,
    description: 'TLS from the first byte (port 465); otherwise STARTTLS when offered',
  }),
  NOTIFICATION_SMTP_REQUIRE_TLS: Type.Boolean({ default: false, description: 'refuse to send unless STARTTLS succeeds' }),
  NOTIFICATION_SMTP_USER: Type.Optional(Type.String()),
  NOTIFICATION_SMTP_PASSWORD: Type.Optional(Type.String()),
  NOTIFICATION_SMTP_MAX_CONNECTIONS: Type.Integer({
    default: 5,
    minimum: 1,
    maximum: 100,
    description: 'pooled SMTP connections per replica',
  }),
  NOTIFICATION_MAILS_PER_SECOND: Type.Number({ default: 100, exclusiveMinimum: 0, description: 'sending rate per replica' }),
  NOTIFICATION_MAX_ATTEMPTS: Type.Integer({
    default: 10,
    minimum: 1,
    description: 'attempts before a refused or unreachable mail fails for good',
  }),
  NOTIFICATION_RETRY_INITIAL_MS: Type.Integer({ default: 5_000, minimum: 10, description: 'first retry delay, doubled each attempt' }),
  NOTIFICATION_RETRY_MAX_MS: Type.Integer({ default: 600_000, minimum: 10, description: 'longest retry delay' }),
  NOTIFICATION_SENDER_POLL_MS: Type.Integer({ default: 1_000, minimum: 10, description: 'how often an idle sender looks for due mails' }),
  NOTIFICATION_SENDER_LEASE_SECONDS: Type.Integer({
    default: 120,
    minimum: 1,
    description: 'how long a claimed mail stays with its replica before another takes it over (a killed replica)',
  }),
  NOTIFICATION_SENT_KEEP_DAYS: Type.Number({
    default: 30,
    exclusiveMinimum: 0,
    description: 'how long sent mails are kept (longer than the streams keep events and batches keep their keys)',
  }),
  NOTIFICATION_SENDER_ENABLED: Type.Boolean({ default: true, description: 'false: this replica queues mails but sends none' }),
});

export type NotificationConfig = Static<typeof NotificationConfigSchema>;
