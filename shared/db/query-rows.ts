import type { SQL } from 'drizzle-orm';
import type { Database } from './database.js';

/**
 * Runs a hand-written statement and answers its rows. pg, PGlite and Neon all answer `{ rows }`; drizzle's common
 * database type cannot say so, hence this one narrowing.
 */
export async function queryRows(db: Database, query: SQL): Promise<Record<string, unknown>[]> {
  const result = (await db.execute(query)) as unknown as { rows: Record<string, unknown>[] };
  return result.rows;
}
