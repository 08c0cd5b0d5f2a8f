/**
 * Applies the numbered SQL migrations that a database has not seen yet. Safe to run twice (applied ones are skipped)
 * and concurrently (one transaction-scoped advisory lock serialises runners; the loser finds nothing left to do).
 * Each migration and its bookkeeping row commit together, so a failed migration leaves no trace.
 */
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

/** Returns the names of the migrations it applied. */
export async function migrate(target: MigrationTarget, migrations: Migration[]): Promise<string[]> {
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
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await exec(migration.sql);
      await exec(`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, '${migration.name}')`);
      done.push(migration.name);
    }
    return done;
  });
}
