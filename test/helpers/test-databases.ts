/**
 * The databases suites run against: PGlite everywhere, and the Postgres server at DATABASE_URL (default: the local
 * one). Each test database is its own database on the server, cloned from the run's migrated template
 * (database-templates.ts) and dropped afterwards, or an in-memory PGlite loaded from the template and emptied for the
 * worker's next test once this one is done with it (pglite-pool.ts). An unreachable server skips its suites with a
 * printed reason, or fails them under CONDUCTOR_REQUIRE_SERVICES=1.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { loadMigrations } from '../../shared/db/migration-files.js';
import { migrate } from '../../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../../shared/db/node-database.js';
import { cloneName } from './database-templates.js';
import { givePglite, takePglite } from './pglite-pool.js';

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
  /** Postgres: the URL of this test's database, for more connections to it; undefined on PGlite. */
  url: string | undefined;
  /** Drops what the test made. */
  destroy(): Promise<void>;
}

/**
 * A database for one test, migrated. `fresh` migrates an empty one for real instead of cloning the template (for
 * the tests of the migrations themselves); so does a run without test/global-setup.ts (no template provided).
 * `upTo` (a migration's number, e.g. '0008') migrates a fresh one up to before that migration, for a test of the
 * upgrade it makes.
 */
export async function createTestDatabase(
  backend: Backend,
  options: { poolSize?: number; fresh?: boolean; upTo?: string } = {},
): Promise<TestDatabase> {
  const provided = providedTemplates();
  const templates = options.fresh || options.upTo !== undefined ? undefined : provided;
  const migrations = async () =>
    (await loadMigrations()).filter((m) => options.upTo === undefined || m.name < options.upTo);
  if (backend.name === 'pglite') {
    if (templates) {
      const database = await takePglite(() => pgliteDump(templates.pglite));
      return { ...database, url: undefined, destroy: () => givePglite(database) };
    }
    const database = await emptyPglite();
    await migrate(database.migrations, await migrations());
    return { ...database, url: undefined, destroy: () => database.close() };
  }
  // Named after the run's template even when fresh, so the run's teardown drops it if this worker is killed.
  const name = provided?.postgres ? cloneName(provided.postgres) : `conductor_fresh_${randomBytes(5).toString('hex')}`;
  await adminQuery(
    templates?.postgres ? `CREATE DATABASE ${name} TEMPLATE ${templates.postgres}` : `CREATE DATABASE ${name}`,
  );
  const url = databaseUrl(name);
  try {
    const database = await openNodeDatabase({ url, poolSize: options.poolSize ?? 20 });
    if (!templates?.postgres) await migrate(database.migrations, await migrations());
    // Closed once, whether by a test of a lost database or by its cleanup.
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= database.close());
    return {
      ...database,
      close,
      url,
      async destroy() {
        await close();
        await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
      },
    };
  } catch (error) {
    await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
    throw error;
  }
}

/** The URL of database `name` on the server at POSTGRES_URL. */
function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** What test/global-setup.ts made for this run; undefined outside vitest or without that setup. */
function providedTemplates(): { postgres: string | null; pglite: string } | undefined {
  try {
    const pglite = inject('pgliteTemplate');
    return pglite ? { postgres: inject('postgresTemplate'), pglite } : undefined;
  } catch {
    return undefined; // not under vitest (the benches import this module)
  }
}

/**
 * An in-memory PGlite database no migration has touched, for the tests of migrations: loaded from the run's dump of
 * one (PGlite's initdb takes seconds), or made anew outside vitest.
 */
export async function emptyPglite(): Promise<NodeDatabase> {
  let file: string | undefined;
  try {
    file = inject('pgliteEmpty');
  } catch {
    // not under vitest
  }
  return openNodeDatabase(file ? { loadDataDir: await pgliteDump(file) } : {});
}

const dumps = new Map<string, Promise<Blob>>();

/** A PGlite dump, read once per worker. */
function pgliteDump(file: string): Promise<Blob> {
  let blob = dumps.get(file);
  if (!blob) dumps.set(file, (blob = readFile(file).then((bytes) => new Blob([bytes]))));
  return blob;
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
