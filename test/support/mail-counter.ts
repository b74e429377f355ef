import { SMTPServer } from 'smtp-server';

/** What a MailCounter saw: every message accepted, by recipient and Message-ID. */
export interface MailCount {
  /** Messages accepted (a copy sent twice counts twice). */
  messages: number;
  /** recipient address -> the Message-IDs it received, one entry per copy. */
  byRecipient: Map<string, string[]>;
}

export interface MailCounter {
  port: number;
  count(): MailCount;
  stop(): Promise<void>;
}

/**
 * A real SMTP server (npm smtp-server, in this process) that keeps only who received which
 * Message-ID: tens of thousands of mails cost it next to nothing (startSmtpSink parses and
 * keeps every message). For the replica and chaos checks: a mail lost or sent twice shows
 * as a recipient with too few or too many copies. `acceptDelayMs`: a slow server, that answers
 * each message (and counts it) only after that long.
 */
export async function startMailCounter(options: { acceptDelayMs?: number } = {}): Promise<MailCounter> {
  const byRecipient = new Map<string, string[]>();
  let messages = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    // Senders keep pooled connections open: close them rather than wait for them.
    closeTimeout: 100,
    onData(stream, session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 8192) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const accept = () => {
          messages++;
          const messageId = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? `(none ${messages})`;
          for (const r of session.envelope.rcptTo) {
            const address = r.address.toLowerCase();
            const ids = byRecipient.get(address);
            if (ids) ids.push(messageId);
            else byRecipient.set(address, [messageId]);
          }
          callback();
        };
        if (options.acceptDelayMs) setTimeout(accept, options.acceptDelayMs);
        else accept();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // A sender killed mid-conversation resets its connections: not a reason to stop.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  return {
    port: (server.server.address() as { port: number }).port,
    count: () => ({ messages, byRecipient }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
