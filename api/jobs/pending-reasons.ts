/**
 * Why a PENDING job waits, where its owner is the reason (issue 12, item 4): its partition has UP nodes, but none of
 * them runs jobs of its owner (their runs_as, shared/protocol/runs-as.ts), so no claim will take it until one does.
 * Slurm's name for a job whose required nodes are not available is `ReqNodeNotAvail` (squeue(1), JOB REASON CODES).
 * Decided when a job is read (GET and list), not stored: a node that comes up, or says otherwise, changes it at once.
 * A partition with no UP node at all keeps the stored reason: then nodes are missing, not an owner's.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nullableWordArray, wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { ownerPhrase } from '../../shared/protocol/runs-as.js';
import { nodeRunsOwner } from '../nodes/runs-owner.js';

export const OWNER_NOT_RUN_REASON = 'ReqNodeNotAvail';

export interface PendingReason {
  reason: typeof OWNER_NOT_RUN_REASON;
  /** "no UP node of partition P runs jobs as U" (or "… runs jobs naming no user (as root)"). */
  detail: string;
}

type Waiting = { id: number; state: string; partition: string; user: string | null };

/** The reason of each PENDING job of these whose owner no UP node of its partition runs, by job id. */
export async function pendingReasons(db: Database, jobs: readonly Waiting[]): Promise<Map<number, PendingReason>> {
  const reasons = new Map<number, PendingReason>();
  const pending = jobs.filter((job) => job.state === 'PENDING');
  if (pending.length === 0) return reasons;
  // One row per partition and owner: a page of a thousand jobs of one user asks one question.
  const pairs = new Map(pending.map((job) => [`${job.partition}|${job.user ?? ''}`, job]));
  const rows = await queryRows(
    db,
    sql`
      SELECT w.partition, w.owner
      FROM unnest(${wordArray([...pairs.values()].map((job) => job.partition))},
                  ${nullableWordArray([...pairs.values()].map((job) => job.user))}) AS w(partition, owner)
      WHERE EXISTS (SELECT 1 FROM nodes n WHERE n.state = 'UP' AND w.partition = ANY(n.partitions))
        AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.state = 'UP' AND w.partition = ANY(n.partitions)
                          AND ${nodeRunsOwner('n', sql`w.owner`)})
    `,
  );
  const unrun = new Set(rows.map((row) => `${String(row.partition)}|${row.owner === null ? '' : String(row.owner)}`));
  for (const job of pending) {
    if (!unrun.has(`${job.partition}|${job.user ?? ''}`)) continue;
    reasons.set(job.id, {
      reason: OWNER_NOT_RUN_REASON,
      detail: `no UP node of partition ${job.partition} runs ${ownerPhrase(job.user)}`,
    });
  }
  return reasons;
}
