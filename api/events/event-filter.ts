/**
 * Which events a reader wants (GET /v1/events's query, a webhook's subscription): kinds, jobs, account, end states,
 * partitions; each given one narrows, each absent lets all through. The same rule twice: as SQL for reads from the
 * table, and in memory for the Node host's fan-out (event-hub.ts), which reads every event once for all its clients.
 */
import { sql, type SQL } from 'drizzle-orm';
import { bigintArray, textArray, wordArray } from '../../shared/db/pg-array.js';
import type { StreamEvent } from './stream-event.js';

export const EVENT_KINDS = ['job', 'node'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventFilter {
  kinds: readonly EventKind[];
  /** Only these jobs' events (node events never match). */
  jobIds?: readonly number[];
  /** Only this account's job events (node events never match): a user token's is always its own. */
  account?: string;
  /** Only events into these states (to_state): job states, or node states (UP, DOWN, DRAINING). */
  states?: readonly string[];
  /** Job events of these partitions, node events of nodes serving one of them. */
  partitions?: readonly string[];
}

export function filterSql(filter: EventFilter): SQL {
  const conditions: SQL[] = [sql`e.kind = ANY(${wordArray(filter.kinds)})`];
  if (filter.jobIds) conditions.push(sql`e.job_id = ANY(${bigintArray(filter.jobIds)})`);
  if (filter.account !== undefined) conditions.push(sql`e.account = ${filter.account}`);
  if (filter.states) conditions.push(sql`e.to_state = ANY(${wordArray(filter.states)})`);
  if (filter.partitions) {
    const partitions = textArray(filter.partitions);
    conditions.push(sql`(e.partition = ANY(${partitions}) OR e.partitions && ${partitions})`);
  }
  return sql.join(conditions, sql` AND `);
}

export function matchesFilter(event: StreamEvent, filter: EventFilter): boolean {
  if (!filter.kinds.includes(event.kind)) return false;
  const job = event.kind === 'job' ? event : undefined;
  if (filter.jobIds && !(job && filter.jobIds.includes(job.jobId))) return false;
  if (filter.account !== undefined && job?.account !== filter.account) return false;
  if (filter.states && !filter.states.includes(event.toState)) return false;
  if (filter.partitions) {
    const partitions = event.kind === 'job' ? [event.partition] : event.partitions;
    if (!partitions.some((partition) => filter.partitions!.includes(partition))) return false;
  }
  return true;
}
