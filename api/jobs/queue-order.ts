/**
 * Queue order, as squeue shows it: RUNNING jobs first (oldest submitted first), then PENDING ones in the order the
 * scheduler considers them. Today that is the queue's own order (shared/queue: priority first, then submit order, so
 * the job id); issue 19's computed priority changes `pendingRank` here, and the index that serves it (migration 0017,
 * jobs_queue_rank), not the listing.
 */
import { sql, type SQL } from 'drizzle-orm';
import { jobs } from '../../shared/db/schema.js';

/** The PENDING jobs' sort key, ascending, ties broken by id ascending; matches index jobs_queue_rank's expression. */
export const pendingRank: SQL<number> = sql<number>`(-${jobs.priority})`;

/** Where a queue-order listing stopped: in its RUNNING part after job `id`, or in its PENDING part after (rank, id). */
export type QueuePosition = { phase: 'RUNNING'; id: number } | { phase: 'PENDING'; rank: number; id: number };
