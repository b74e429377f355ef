// Reads a JSON list of base64 PDFs on standard input and prints, as JSON, the text of each
// one's pages. Run as its own node process by pdf.ts: pdf-parse (PDF.js) loads its worker as
// an ES module, which jest's module system cannot.
import { PDFParse } from 'pdf-parse';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const documents = [];
for (const base64 of JSON.parse(Buffer.concat(chunks).toString())) {
  const parser = new PDFParse({ data: new Uint8Array(Buffer.from(base64, 'base64')) });
  try {
    documents.push((await parser.getText()).pages.map((page) => page.text));
  } finally {
    await parser.destroy();
  }
}
process.stdout.write(JSON.stringify(documents));
