import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Extensions } from '@electric-sql/pglite';
import { remainingMs } from './context';
import { DomainError } from './errors';
import type { Logger } from './logger';

export type Row = Record<string, unknown>;

// A SQL date is a calendar day, not an instant: keep it as its "YYYY-MM-DD" text instead of
// a JS Date at local midnight, which would compare and serialise as something else.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);

/** A statement's text, or a prepared one: `{ name, text }` is parsed and planned once per
 * connection and reused (for the statements every call runs, e.g. loading the acting user).
 * A prepared statement lists its columns: a `*` would fail once a migration adds one. */
export type Statement = string | { name: string; text: string };

const preparedNames = new Map<string, string>();
/** More distinct texts than this means a caller builds them from values: each would stay
 * prepared on every connection that ran it (the server's memory). */
export const MAX_PREPARED_TEXTS = 100;

/** `text` as a statement prepared once per connection, named after its text: for a statement
 * built in a few shapes (never from a caller's values). Past MAX_PREPARED_TEXTS distinct
 * texts in a process, a new text is sent unprepared (planned at every call, held nowhere). */
export function prepared(text: string): Statement {
  let name = preparedNames.get(text);
  if (name === undefined) {
    if (preparedNames.size >= MAX_PREPARED_TEXTS) return text;
    preparedNames.set(text, (name = `kit.prepared.${preparedNames.size + 1}`));
  }
  return { name, text };
}

export interface Queryable {
  query<R extends Row = Row>(text: Statement, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Queryable {
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent, an embedded PGlite persisted in dataDir is used. */
  url?: string;
  /** The service's own schema: its tables live there, so services may share a database. */
  schema: string;
  dataDir: string;
  /** PGlite contrib extensions the service's migrations create (e.g. "pg_trgm"). */
  extensions?: string[];
  poolSize?: number;
  /** The longest any statement may run, deadline or not (a backstop; default 60 s). */
  statementTimeoutMs?: number;
  logger: Logger;
}

/** Opens the service's database: a pg pool on a real PostgreSQL server, or, for a first run
 * on a machine without one, the same SQL on embedded PGlite served on a local socket. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new Error(`bad schema name ${options.schema}`);
  const searchPath = `${options.schema},public`;
  let pool: pg.Pool;
  let closeEmbedded = async () => {};
  if (options.url) {
    pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: `-c search_path=${searchPath} -c statement_timeout=${options.statementTimeoutMs ?? 60_000}`,
    });
  } else {
    const embedded = await startEmbedded(options);
    closeEmbedded = embedded.close;
    // PGlite ignores startup options; a database default does the same for its one database.
    const setup = new pg.Client({ host: '127.0.0.1', port: embedded.port, user: 'postgres', database: 'postgres' });
    await setup.connect();
    await setup.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    await setup.query(`ALTER DATABASE postgres SET search_path TO ${searchPath}`);
    await setup.end();
    pool = new pg.Pool({ host: '127.0.0.1', port: embedded.port, user: 'postgres', database: 'postgres', max: 1 });
    options.logger.info({ dataDir: options.dataDir }, 'using embedded PGlite (set a database URL to use PostgreSQL)');
  }
  pool.on('error', (err) => options.logger.error({ err }, 'idle database connection failed'));

  const backstopMs = options.statementTimeoutMs ?? 60_000;
  // The statement_timeout of each pooled connection, a session setting: it is set again only
  // when a call needs another one, so that a statement with a deadline costs one round trip
  // (a transaction of its own with SET LOCAL cost three, and twice the CPU of the statement
  // itself for the short reads most calls make).
  const timeouts = new WeakMap<pg.PoolClient, number>();
  async function connect(): Promise<pg.PoolClient> {
    statementLimit(backstopMs); // past its deadline, a call does not wait for a connection
    const client = await pool.connect();
    try {
      // The time left once a connection is free: a call whose deadline passed while it waited
      // runs nothing (its caller has been told DEADLINE_EXCEEDED; a write would land after).
      const limit = statementLimit(backstopMs);
      const current = timeouts.get(client);
      if (current === undefined || current < limit.atLeast || current > limit.atMost) {
        await client.query(`SET statement_timeout = ${limit.atLeast}`);
        timeouts.set(client, limit.atLeast);
      }
      return client;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  if (options.url) {
    // Replicas (and services sharing the database) start at once: CREATE ... IF NOT EXISTS
    // is not safe against itself, so schema creation waits on the migrations' lock.
    await transaction(async (tx) => {
      await lockMigrations(tx);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    });
  }

  return {
    embedded: !options.url,
    // Within a call that has a deadline, the server stops a statement at the deadline.
    async query(text, params) {
      const client = await connect();
      try {
        return await client.query(text, params);
      } finally {
        client.release();
      }
    },
    transaction,
    async close() {
      await pool.end();
      await closeEmbedded();
    },
  };
}

/** The statement_timeout a statement may run under now: within a call that has a deadline,
 * from the time left (the server stops a statement nobody waits for any more: error 57014,
 * DEADLINE_EXCEEDED) to a tenth more, at most a second (a connection's setting is kept while
 * it falls in that range); otherwise the backstop. */
function statementLimit(backstopMs: number): { atLeast: number; atMost: number } {
  const left = remainingMs();
  if (left === undefined) return { atLeast: backstopMs, atMost: backstopMs };
  if (left <= 0) throw new DomainError('DEADLINE_EXCEEDED', 'the request took longer than its deadline and was stopped');
  const atLeast = Math.ceil(left);
  return { atLeast, atMost: atLeast + Math.min(1000, Math.floor(left / 10)) };
}

async function startEmbedded(options: DatabaseOptions): Promise<{ port: number; close(): Promise<void> }> {
  // Loaded only here, so that a service on a real server never loads the WASM build.
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  const extensions: Extensions = {};
  for (const name of options.extensions ?? []) {
    extensions[name] = (require(`@electric-sql/pglite/contrib/${name}`) as Extensions)[name];
  }
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir, { extensions });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    port: address.port,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

export interface MigrationSource {
  /** Prefix of the migration ids, e.g. "kit" or "identity". */
  name: string;
  /** Folder of NNN_description.sql files, applied in name order, each in a transaction. */
  dir: string;
}

/** One lock for the migrations of every service in a database: replicas starting at once
 * must not apply a file twice, and two services must not create the same extension (in the
 * shared public schema) at the same instant. */
function lockMigrations(tx: Queryable): Promise<unknown> {
  return tx.query(`SELECT pg_advisory_xact_lock(hashtext('assistants:migrations'))`);
}

/** Applies the migrations not applied yet, under the database's migrations lock. */
export async function migrate(db: Database, sources: MigrationSource[], logger: Logger): Promise<void> {
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Set((await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const source of sources) {
      for (const file of readdirSync(source.dir)
        .filter((f) => f.endsWith('.sql'))
        .sort()) {
        const id = `${source.name}/${file}`;
        if (applied.has(id)) continue;
        await tx.query(readFileSync(join(source.dir, file), 'utf8'));
        await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [id]);
        logger.info({ migration: id }, 'migration applied');
      }
    }
  });
}

/** The kit's own tables (event outbox and inbox), which every service's database has. */
export const KIT_MIGRATIONS: MigrationSource = { name: 'kit', dir: join(__dirname, '..', 'migrations') };
