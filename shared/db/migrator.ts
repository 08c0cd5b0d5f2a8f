/**
 * Applies the numbered SQL migrations that a database has not seen yet. Safe to run twice (applied ones are skipped)
 * and concurrently (one transaction-scoped advisory lock serialises runners; the loser finds nothing left to do).
 * Each migration and its bookkeeping row commit together, so a failed migration leaves no trace.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Runs SQL text (which may hold several statements) inside one transaction. */
export interface MigrationTarget {
  inTransaction<T>(work: (exec: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T>;
}

// An arbitrary constant shared by every runner of this project's migrations, so they exclude each other.
const MIGRATION_LOCK_KEY = 7_245_310_981;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(join(dir, file), 'utf8'),
    })),
  );
}

/** Returns the names of the migrations it applied. */
export async function migrate(target: MigrationTarget, migrations?: Migration[]): Promise<string[]> {
  const pending = migrations ?? (await loadMigrations());
  return target.inTransaction(async (exec) => {
    await exec(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await exec('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: string[] = [];
    for (const migration of pending) {
      if (applied.has(migration.version)) continue;
      await exec(migration.sql);
      await exec(
        `INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, '${migration.name}')`,
      );
      done.push(migration.name);
    }
    return done;
  });
}
