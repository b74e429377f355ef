import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@assistants/testing';
import pg from 'pg';
import { createLogger, KIT_MIGRATIONS, migrate, openDatabase, type Database } from '../src';

const logger = createLogger('kit-test', 'silent');
let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase('kit_migrations');
  dir = mkdtempSync(join(tmpdir(), 'kit-migrations-'));
  // Like identity's and catalog's first migrations: an extension in the shared public schema.
  writeFileSync(
    join(dir, '001_things.sql'),
    `CREATE EXTENSION IF NOT EXISTS pg_trgm;
     CREATE TABLE things (name text PRIMARY KEY);
     INSERT INTO things VALUES ('first');`,
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await database?.drop();
});

it('two services with three replicas each, started at the same instant on an empty database: every replica starts, each migration applied once', async () => {
  const replicas = ['alpha', 'alpha', 'alpha', 'beta', 'beta', 'beta'];
  const opened: Database[] = [];
  const outcomes = await Promise.allSettled(
    replicas.map(async (schema) => {
      const db = await openDatabase({ url: database.url, schema, dataDir: '', logger, poolSize: 2 });
      opened.push(db);
      await migrate(db, [KIT_MIGRATIONS, { name: 'things', dir }], logger);
    }),
  );
  await Promise.all(opened.map((db) => db.close()));
  expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    for (const schema of ['alpha', 'beta']) {
      const applied = await client.query(`SELECT id FROM ${schema}.schema_migrations WHERE id LIKE 'things/%'`);
      expect(applied.rows).toEqual([{ id: 'things/001_things.sql' }]);
      expect((await client.query(`SELECT name FROM ${schema}.things`)).rows).toEqual([{ name: 'first' }]);
    }
  } finally {
    await client.end();
  }
});
