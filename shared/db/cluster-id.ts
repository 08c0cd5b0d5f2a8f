/**
 * This database's cluster id (migration 0013_cluster_identity.sql): a uuid made at its first migration to that
 * version, the same for every API process and node of the deployment, and different for every other database. Keys
 * of the log store hold it (shared/logs/log-store.ts).
 */
import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { queryRows } from './query-rows.js';

/**
 * The cluster id, as a lowercase uuid.
 * @throws Error when the database has no cluster id (migration 0013 not applied)
 */
export async function readClusterId(db: Database): Promise<string> {
  const [row] = await queryRows(db, sql`SELECT cluster_id::text AS id FROM cluster_identity`);
  if (row === undefined) throw new Error('the database has no cluster id: apply its migrations (npm run migrate)');
  return String(row.id);
}

/**
 * The cluster id of a deployment's database, read once and kept: it never changes. A Worker, whose database is per
 * request, reads it with its first request that needs it; a Node host knows it at start.
 */
export function clusterIdSource(known?: string): (db: Database) => Promise<string> {
  let id: Promise<string> | undefined = known === undefined ? undefined : Promise.resolve(known);
  return (db) => {
    // A failed read is not kept: the next request reads again.
    id ??= readClusterId(db).catch((error: unknown) => {
      id = undefined;
      throw error;
    });
    return id;
  };
}

/** Whether the database holds jobs from before cluster ids (`legacy_log_keys`), whose output may be at the old keys. */
export async function hasLegacyLogKeys(db: Database): Promise<boolean> {
  const [row] = await queryRows(db, sql`SELECT EXISTS (SELECT 1 FROM jobs WHERE legacy_log_keys) AS legacy`);
  return row?.legacy === true;
}
