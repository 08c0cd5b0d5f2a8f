/**
 * What the why answer is computed from, read for one PENDING job: its partition's nodes, the RUNNING jobs on them,
 * and the jobs ahead of it in its partition's queue (queue-order.ts: priority desc, id asc; jobs an account limit
 * holds are out of the queue and are not ahead of anyone).
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { jobs, nodes, type JobRow } from '../../../shared/db/schema.js';
import { wordArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import { OUT_OF_QUEUE_REASONS } from '../../../shared/job/pending-reason.js';
import type { Allocation } from './node-room.js';
import type { PartitionNode } from './node-verdicts.js';

export interface AheadJob {
  id: number;
  priority: number;
  cpus: number;
  memoryMb: number;
  exclusive: boolean;
  timeLimitSeconds: number | null;
  name: string;
  account: string;
  user: string | null;
}

export interface WhyFacts {
  nodes: PartitionNode[];
  /** The RUNNING jobs on those nodes, ending at start + time limit (Infinity: UNLIMITED). */
  running: Allocation[];
  /** How many jobs are ahead of it, all told. */
  aheadCount: number;
  /** The first `aheadLimit` of them, in queue order. */
  ahead: AheadJob[];
}

/** Reads the facts; `aheadLimit`: how many jobs ahead to read (the simulation's cap); `now`: epoch ms. */
export async function readWhyFacts(db: Database, job: JobRow, aheadLimit: number, now: number): Promise<WhyFacts> {
  const nodeRows = await db
    .select()
    .from(nodes)
    .where(sql`${job.partition} = ANY(${nodes.partitions})`)
    .orderBy(asc(nodes.name));
  const names = nodeRows.map((node) => node.name);
  const [runningRows, aheadRows] = await Promise.all([
    names.length === 0
      ? []
      : db
          .select({
            id: jobs.id,
            node: jobs.nodeName,
            cpus: jobs.cpus,
            memoryMb: jobs.memoryMb,
            exclusive: jobs.exclusive,
            startTime: jobs.startTime,
            timeLimitSeconds: jobs.timeLimitSeconds,
          })
          .from(jobs)
          .where(and(eq(jobs.state, 'RUNNING'), inArray(jobs.nodeName, names))),
    // count(*) OVER () is taken before LIMIT: every job ahead is counted, the first aheadLimit are answered.
    queryRows(
      db,
      sql`
        SELECT id, priority, cpus, memory_mb, exclusive, time_limit_seconds, name, account, unix_user,
               count(*) OVER () AS ahead_count
        FROM jobs
        WHERE state = 'PENDING' AND partition = ${job.partition}
          AND coalesce(reason, '') <> ALL(${wordArray(OUT_OF_QUEUE_REASONS)})
          AND (-priority, id) < (${-job.priority}, ${job.id})
        ORDER BY -priority, id
        LIMIT ${aheadLimit}
      `,
    ),
  ]);
  return {
    nodes: nodeRows.map((node) => ({
      name: node.name,
      cpus: node.cpus,
      memoryMb: node.memoryMb,
      state: node.state,
      drained: node.drained,
      drainReason: node.reason,
      runsAs: { any_user: node.runsAnyUser, users: node.runsUsers, unnamed: node.runsUnnamed },
    })),
    running: runningRows.map((row) => {
      // A job with no recorded start (cannot be, while RUNNING) is taken as started now.
      const start = row.startTime?.getTime() ?? now;
      return {
        jobId: row.id,
        node: row.node!,
        cpus: row.cpus,
        memoryMb: row.memoryMb,
        exclusive: row.exclusive,
        start,
        end: row.timeLimitSeconds === null ? Infinity : start + row.timeLimitSeconds * 1000,
      };
    }),
    aheadCount: aheadRows.length === 0 ? 0 : Number(aheadRows[0]!.ahead_count),
    ahead: aheadRows.map((row) => ({
      id: Number(row.id),
      priority: Number(row.priority),
      cpus: Number(row.cpus),
      memoryMb: Number(row.memory_mb),
      exclusive: Boolean(row.exclusive),
      timeLimitSeconds: row.time_limit_seconds === null ? null : Number(row.time_limit_seconds),
      name: String(row.name),
      account: String(row.account),
      user: row.unix_user === null ? null : String(row.unix_user),
    })),
  };
}
