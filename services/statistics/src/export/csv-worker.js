// The CSV formatting of an export, in a worker thread so that it runs beside the fetching
// and parsing of the next page of rows (writer.ts). Plain JavaScript: a worker thread loads
// it with node itself, under tsx, jest or a build alike. One message per page of rows (arrays
// of text), answered in order by the page as CSV bytes (transferred, not copied).
const { parentPort, workerData } = require('node:worker_threads');
const { stringify } = require('csv-stringify/sync');

parentPort.on('message', (rows) => {
  const data = Buffer.from(stringify(rows, workerData), 'utf8');
  const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  parentPort.postMessage(bytes, [bytes]);
});
