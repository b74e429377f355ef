-- Notification: mail templates and the mail queue. Users live in identity: their ids and the
-- values a mail needs are copied here when a mail is queued, without foreign keys.

CREATE TABLE mail_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  context text NOT NULL CHECK (context IN ('user', 'course_assignment', 'curriculum_assignment', 'welcome')),
  default_language text NOT NULL,
  -- [{language, subject, html, text}], one per language.
  variants jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_templates_order_idx ON mail_templates (name, id);

-- One row per (source, recipient): the UNIQUE key is what makes a redelivered event or a
-- repeated batch queue nothing twice. The template's variant is copied (the sources, not the
-- rendering) with the values of its fields: the mail renders when it is sent, so that a
-- welcome mail's password, kept encrypted in `secret` until then, is never stored in clear.
CREATE TABLE mails (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- "event:<event id>", "batch:<idempotency key>", "welcome:<idempotency key>".
  source text NOT NULL,
  recipient_id text NOT NULL,
  context text NOT NULL,
  template_id uuid,
  to_address text NOT NULL,
  language text NOT NULL,
  subject text NOT NULL,
  html text NOT NULL,
  text_body text NOT NULL,
  -- The values of the dynamic fields (the password excepted).
  data jsonb NOT NULL,
  -- AES-256-GCM of the generated password (welcome mails), wiped once the mail is sent.
  secret bytea,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  last_error text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  failed_at timestamptz,
  UNIQUE (source, recipient_id)
);
-- What the senders claim: due queued mails.
CREATE INDEX mails_due_idx ON mails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mails_failed_idx ON mails (failed_at DESC, id) WHERE status = 'failed';
