import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';

// The advisory lock namespace of accounts: any constant no other lock of this project uses.
const ACCOUNT_LOCK_NAMESPACE = 12_019;

/**
 * Serialises, across every API process, what decides against an account's limits (a submit's count and insert, a
 * confirm's count and start): takes each account's transaction-scoped advisory lock, held until the caller's
 * transaction ends. Taken in the order of the lock keys (hashes of the names: two names may share one, so ordering
 * by name could still deadlock), one statement, so two transactions locking overlapping sets never deadlock. Call it
 * only inside a transaction.
 */
export async function lockAccounts(tx: Database, accounts: Iterable<string>): Promise<void> {
  const names = [...new Set(accounts)];
  if (names.length === 0) return;
  await tx.execute(sql`
    SELECT pg_advisory_xact_lock(${ACCOUNT_LOCK_NAMESPACE}, key)
    FROM (SELECT DISTINCT hashtext(name) AS key FROM unnest(${wordArray(names)}) AS name ORDER BY key) AS keys`);
}
