/**
 * Why each PENDING job of a page waits (issue 19, item 5), decided when it is read (GET, list, dashboards), not
 * stored: a node that comes up, a partition set DOWN, a job ahead that starts, changes it at once. The one stored
 * reason read back is an account limit's, which the confirm that refused the job writes (shared/job/pending-reason.ts).
 * One statement per page reads every partition's facts for every owner on it; a second, only when the page has jobs
 * an account limit holds, reads those accounts' use. The precedence is decide-pending-reason.ts's.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import type { PartitionState } from '../../shared/db/schema.js';
import { nullableWordArray, wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { OUT_OF_QUEUE_REASONS } from '../../shared/job/pending-reason.js';
import { nodeRunsOwner } from '../nodes/runs-owner.js';
import { isAccountLimit, readAccountUse } from './account-use.js';
import {
  decidePendingReason,
  type PartitionFacts,
  type PendingReason,
  type WaitingJob,
} from './decide-pending-reason.js';

export type { PendingReason } from './decide-pending-reason.js';

type Read = WaitingJob & { state: string };

const pairKey = (partition: string, owner: string | null) => `${partition}|${owner ?? ''}`;

/** The reason of each PENDING job of these, by job id; other states have none. */
export async function pendingReasons(db: Database, jobs: readonly Read[]): Promise<Map<number, PendingReason>> {
  const pending = jobs.filter((job) => job.state === 'PENDING');
  if (pending.length === 0) return new Map();
  const held = pending.filter((job) => isAccountLimit(job.reason));
  const [facts, accounts] = await Promise.all([
    readPartitionFacts(db, pending),
    readAccountUse(
      db,
      held.map((job) => job.account),
    ),
  ]);
  return new Map(
    pending.map((job) => [
      job.id,
      decidePendingReason(job, facts.get(pairKey(job.partition, job.user))!, accounts.get(job.account)),
    ]),
  );
}

/**
 * Each (partition, owner) pair's facts, in one statement: a page of a thousand jobs of one user asks one question.
 * The head is the first PENDING job in queue order (queue-order.ts: priority desc, id asc; index jobs_queue_rank) that
 * no stored wait holds (OUT_OF_QUEUE_REASONS): a held job is out of the queue until what holds it ends.
 */
export async function readPartitionFacts(
  db: Database,
  jobs: readonly Pick<WaitingJob, 'partition' | 'user'>[],
): Promise<Map<string, PartitionFacts>> {
  const pairs = [...new Map(jobs.map((job) => [pairKey(job.partition, job.user), job])).values()];
  const rows = await queryRows(
    db,
    sql`
      SELECT w.partition, w.owner, p.state AS partition_state,
             count(n.name)::int AS nodes,
             count(n.name) FILTER (WHERE n.state <> 'DOWN')::int AS not_down,
             count(n.name) FILTER (WHERE n.state = 'UP' AND NOT n.drained)::int AS available,
             count(n.name) FILTER (WHERE n.state = 'UP' AND NOT n.drained
                                     AND ${nodeRunsOwner('n', sql`w.owner`)})::int AS available_for_owner,
             (SELECT h.id FROM jobs h
              WHERE h.state = 'PENDING' AND h.partition = w.partition
                AND coalesce(h.reason, '') <> ALL(${wordArray(OUT_OF_QUEUE_REASONS)})
              ORDER BY -h.priority, h.id LIMIT 1) AS head_id
      FROM unnest(${wordArray(pairs.map((job) => job.partition))},
                  ${nullableWordArray(pairs.map((job) => job.user))}) AS w(partition, owner)
      LEFT JOIN partitions p ON p.name = w.partition
      LEFT JOIN nodes n ON w.partition = ANY(n.partitions)
      GROUP BY w.partition, w.owner, p.state
    `,
  );
  return new Map(
    rows.map((row) => [
      pairKey(String(row.partition), row.owner === null ? null : String(row.owner)),
      {
        state: row.partition_state === null ? null : (String(row.partition_state) as PartitionState),
        nodes: Number(row.nodes),
        notDown: Number(row.not_down),
        available: Number(row.available),
        availableForOwner: Number(row.available_for_owner),
        headId: row.head_id === null ? null : Number(row.head_id),
      },
    ]),
  );
}
