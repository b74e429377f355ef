import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A generated password, encrypted (AES-256-GCM) while its welcome mail waits in the queue.
 * The key is derived from NOTIFICATION_SECRET_KEY; the stored value is iv | tag | ciphertext,
 * bound to the mail's id (additional data) so that it cannot be moved to another mail. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string, mailId: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(mailId));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, mailId: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(mailId));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  }
}
