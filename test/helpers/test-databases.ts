import { randomBytes } from 'node:crypto';
/**
 * The databases suites run against: PGlite everywhere, and the Postgres server at DATABASE_URL (default: the local
 * one). Each test database is its own schema (Postgres) or its own in-memory instance (PGlite), dropped afterwards.
 * An unreachable server skips its suites with a printed reason, or fails them under CONDUCTOR_REQUIRE_SERVICES=1.
 */
import pg from 'pg';
import { loadMigrations } from '../../shared/db/migration-files.js';
import { migrate } from '../../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../../shared/db/node-database.js';

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRE_SERVICES = process.env.CONDUCTOR_REQUIRE_SERVICES === '1';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** Why the backend's suites are skipped; undefined when they run. */
  skip: string | undefined;
}

let postgresProbe: Promise<string | undefined> | undefined;

/** Undefined when the server answers, else why not. */
function probePostgres(): Promise<string | undefined> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return `Postgres at ${POSTGRES_URL} is unreachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProbe;
}

export async function backends(): Promise<Backend[]> {
  const unreachable = await probePostgres();
  if (unreachable && REQUIRE_SERVICES) throw new Error(`${unreachable}, and CONDUCTOR_REQUIRE_SERVICES=1`);
  if (unreachable) console.warn(`skipping the Postgres server suites: ${unreachable}`);
  return [
    { name: 'pglite', skip: undefined },
    { name: 'postgres', skip: unreachable },
  ];
}

export interface TestDatabase extends NodeDatabase {
  /** Drops what the test made. */
  destroy(): Promise<void>;
}

/**
 * A migrated test database. `upTo` (a migration's number, e.g. '0008') stops before that migration, for a test of
 * the upgrade it makes.
 */
export async function createTestDatabase(
  backend: Backend,
  options: { poolSize?: number; upTo?: string } = {},
): Promise<TestDatabase> {
  const migrations = (await loadMigrations()).filter((m) => options.upTo === undefined || m.name < options.upTo);
  if (backend.name === 'pglite') {
    const database = await openNodeDatabase({});
    await migrate(database.migrations, migrations);
    return { ...database, destroy: () => database.close() };
  }
  const schema = `test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: options.poolSize ?? 20 });
  await migrate(database.migrations, migrations);
  return {
    ...database,
    async destroy() {
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/** Runs one statement on the Postgres server outside any test schema (creating and dropping schemas). */
export async function adminQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh schema on the server and a URL whose connections work in it; dropped afterwards (benches use it). */
export async function withServerSchema<T>(
  prefix: string,
  work: (schema: string, url: string) => Promise<T>,
): Promise<T> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  try {
    // pg passes `options` to the server as startup options, so every pooled connection gets the search_path.
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return await work(schema, url.toString());
  } finally {
    await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
  }
}
