/**
 * Where the priority's factors come from (priority-formula.ts), as small subqueries: the cluster's CPUs and highest
 * tier are a handful of rows each (nodes, partitions), and an account's or a partition's row is a primary-key lookup,
 * so the submit's insert can carry them without a query of its own.
 */
import { sql, type SQL } from 'drizzle-orm';

/** The CPUs of the nodes not DOWN: what a job's size is a share of (0 with none). */
export const clusterCpus: SQL = sql`(SELECT coalesce(sum(cpus), 0) FROM nodes WHERE state <> 'DOWN')`;

/** The highest PriorityTier of any partition (NULL with none). */
export const maxTier: SQL = sql`(SELECT max(priority_tier) FROM partitions)`;

/** The PriorityTier of the partition `partition` names (NULL: no such partition). */
export const tierOf = (partition: SQL | unknown): SQL =>
  sql`(SELECT priority_tier FROM partitions WHERE name = ${partition})`;

/** The fair-share factor of the account `account` names, as of the last recompute (NULL: never charged). */
export const fairShareOf = (account: SQL | unknown): SQL =>
  sql`(SELECT fairshare_factor FROM account_usage WHERE account = ${account})`;
