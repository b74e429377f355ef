import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A secret kept for a while (a generated password until its welcome mail is sent: the
 * notification service's NOTIFICATION_SECRET_KEY, the import service's IMPORT_SECRET_KEY),
 * encrypted with AES-256-GCM under a key derived from the configured secret. The stored value
 * is iv | tag | ciphertext, bound to what it belongs to (additional data: a mail's id, a
 * job's row) so that it cannot be moved to another. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string, boundTo: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, boundTo: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  }
}
