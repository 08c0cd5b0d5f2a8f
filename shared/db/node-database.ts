/**
 * Node-only: opens the database the Node host and the tools use. A DATABASE_URL means a Postgres server through `pg`;
 * without one, PGlite keeps the data in a directory on disk (the embedded default).
 */
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import type { Database } from './database.js';
import type { MigrationTarget } from './migrator.js';
import { schema } from './schema.js';

export interface NodeDatabase {
  db: Database;
  migrations: MigrationTarget;
  /**
   * Calls `onNotify` on each NOTIFY of `channel` (a plain identifier) until the answered function is called. On a
   * server, one connection of its own, made again after a loss (a notification sent meanwhile is lost: listeners
   * also poll).
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** How long a lost LISTEN connection waits before it connects again. */
const RELISTEN_MS = 1000;

export interface NodeDatabaseOptions {
  /** postgres:// URL of a server; when absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite's data directory; absent means in memory. */
  dataDir?: string | undefined;
  /** Schema to work in (each test suite gets its own); public by default. */
  searchPath?: string | undefined;
  /** Connections to a server. */
  poolSize?: number | undefined;
  /** PGlite only: a data directory dump (`dumpDataDir`) to start from; tests load a migrated one. */
  loadDataDir?: Blob | undefined;
}

export async function openNodeDatabase(options: NodeDatabaseOptions): Promise<NodeDatabase> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

function openPostgres(url: string, options: NodeDatabaseOptions): NodeDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A server that accepts connections but never answers must fail requests, not hang them.
    connectionTimeoutMillis: 5_000,
    statement_timeout: 30_000,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // An idle client that loses its server (a restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor may a client checked out of the pool (a transaction's): pg emits the loss as an 'error' event besides failing
  // its queries, and the pool listens only while a client is idle. The queries' failure is the caller's answer (a
  // 503), and the pool drops the client when it comes back unqueryable.
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    db: drizzlePg(pool, { schema }) as unknown as Database,
    migrations: {
      async inTransaction(work) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work(async (text) => (await client.query(text)).rows);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
    },
    listen: (channel, onNotify) => listenOnServer(url, channel, onNotify),
    close: () => pool.end(),
  };
}

async function listenOnServer(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    next.on('notification', onNotify);
    next.on('error', () => {
      if (client !== next || stopped) return;
      client = undefined;
      void next.end().catch(() => {});
      retry = setTimeout(() => void connect().catch(() => {}), RELISTEN_MS);
    });
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      // Whatever committed while no one listened is read by the listener's next look.
      onNotify();
    } catch (error) {
      next.emit('error', error);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

async function openPglite(options: NodeDatabaseOptions): Promise<NodeDatabase> {
  const client = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  if (options.searchPath) {
    await client.exec(`CREATE SCHEMA IF NOT EXISTS ${options.searchPath}; SET search_path TO ${options.searchPath}`);
  }
  return {
    db: drizzlePglite(client, { schema }) as unknown as Database,
    migrations: {
      inTransaction: (work) =>
        client.transaction((tx) =>
          work(async (text) => {
            const results = await tx.exec(text);
            return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
          }),
        ),
    },
    listen: async (channel, onNotify) => {
      const unlisten = await client.listen(channel, onNotify);
      return () => unlisten();
    },
    close: () => client.close(),
  };
}
