import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// What `npm start` runs on when no database URL is set: PGlite, persisted in a folder. It
// runs in a child process: see fixtures/embedded-db.ts.
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'assistants-pglite-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function run(...args: string[]): { embedded: boolean; rows: unknown[]; prepared: unknown[][]; estimate: string } {
  const output = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'embedded-db.ts'), dataDir, ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').pop()!);
}

it('runs the same migrations and SQL on embedded PGlite, and keeps the data', () => {
  const found = { embedded: true, rows: [{ login: 'embedded', birth_date: '1980-05-17' }] };
  expect(run('insert')).toEqual({ ...found, prepared: [[{ login: 'embedded' }], [{ login: 'embedded' }]], estimate: 'number' });
  // A second start finds the data, and the migrations already applied.
  expect(run()).toMatchObject(found);
}, 120_000);
