/**
 * The confirm's singleton check (sbatch --dependency=singleton): of the claimed jobs, one that needs no other job of
 * its name and user to run starts only when none runs and no other such job of this confirm starts; the others go
 * back to waiting (reason `Dependency`, out of the queue) until a run of their name ends (settle-dependents.ts). The
 * names' advisory locks (singleton-locks.ts) are held to the end of the confirm's transaction, so confirms racing on
 * several nodes start one.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { bigintArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import { lockSingletonNames } from './singleton-locks.js';

/**
 * Of these claimed job ids, those singleton lets start, in input order; the others, when still PENDING, wait again
 * for their dependency. A job whose "?" list holds by another condition is not held by singleton. Call it in the
 * transaction that starts the jobs.
 */
export async function withinSingletons(tx: Database, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return ids;
  const singles = await queryRows(
    tx,
    sql`SELECT j.id, j.name, j.unix_user FROM jobs j
        WHERE j.id = ANY(${bigintArray(ids)}) AND j.state = 'PENDING'
          AND EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id AND d.kind = 'singleton')
          AND NOT EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id AND d.any_of AND d.satisfied)
        ORDER BY j.priority DESC, j.id`,
  );
  if (singles.length === 0) return ids;
  const names = singles.map((row) => ({
    name: String(row.name),
    user: row.unix_user === null ? null : String(row.unix_user),
  }));
  await lockSingletonNames(tx, names);
  const taken = new Set<string>();
  const held: number[] = [];
  for (const [n, row] of singles.entries()) {
    const key = `${names[n]!.user ?? ''}/${names[n]!.name}`;
    // Read under the lock: every run another confirm committed.
    if (taken.has(key) || (await runs(tx, names[n]!.name, names[n]!.user))) held.push(Number(row.id));
    taken.add(key);
  }
  if (held.length === 0) return ids;
  await queryRows(
    tx,
    sql`UPDATE jobs SET reason = 'Dependency' WHERE id = ANY(${bigintArray(held)}) AND state = 'PENDING'`,
  );
  return ids.filter((id) => !held.includes(id));
}

async function runs(tx: Database, name: string, user: string | null): Promise<boolean> {
  const [row] = await queryRows(
    tx,
    sql`SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'RUNNING' AND name = ${name}
                         AND unix_user IS NOT DISTINCT FROM ${user}) AS runs`,
  );
  return row?.runs === true;
}
