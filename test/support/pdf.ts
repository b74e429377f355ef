import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The text of each page of each PDF, as PDF.js (pdf-parse) extracts it: what a reader of
 * the document would see. Fails on anything that is not a readable PDF. One node process
 * reads them all (starting PDF.js takes a while). */
export function pdfTexts(pdfs: Buffer[]): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [join(__dirname, 'pdf-text.mjs')], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`not a readable PDF: ${stderr || err.message}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(pdfs.map((pdf) => pdf.toString('base64'))));
  });
}

export const pdfPages = async (pdf: Buffer): Promise<string[]> => (await pdfTexts([pdf]))[0];
