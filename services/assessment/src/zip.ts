import { ZipFile } from 'yazl';
import * as yauzl from 'yauzl';

/** A zip of these files (name → content), deflated, in this order. */
export function zipFiles(files: Map<string, string | Buffer>): Promise<Buffer> {
  const zip = new ZipFile();
  // A fixed date: the same test gives the same bytes.
  for (const [name, content] of files) zip.addBuffer(Buffer.from(content), name, { mtime: new Date(Date.UTC(2000, 0, 1)) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Limits of what unzipFiles reads: a package is a few XML files. */
export const UNZIP_LIMITS = { entries: 5_000, totalBytes: 50 * 1024 * 1024 };

/** The files of a zip (name → bytes); folders are left out. Refuses a zip past UNZIP_LIMITS
 * (entry count, or total uncompressed size as declared and as read). */
export function unzipFiles(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(new Error(`not a zip file (${err?.message ?? 'unreadable'})`));
      if (file.entryCount > UNZIP_LIMITS.entries) return reject(new Error(`more than ${UNZIP_LIMITS.entries} files in the zip`));
      const files = new Map<string, Buffer>();
      let total = 0;
      const fail = (e: Error) => {
        file.close();
        reject(e);
      };
      file.on('error', fail);
      file.on('end', () => resolve(files));
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return file.readEntry();
        total += entry.uncompressedSize;
        if (total > UNZIP_LIMITS.totalBytes) return fail(new Error(`the zip holds more than ${UNZIP_LIMITS.totalBytes} bytes`));
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return fail(e ?? new Error(`${entry.fileName}: unreadable`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', fail);
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            file.readEntry();
          });
        });
      });
      file.readEntry();
    });
  });
}
