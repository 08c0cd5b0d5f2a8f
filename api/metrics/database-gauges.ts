/**
 * The gauges read from the truth at each scrape, the same on both hosts (the Worker's whole /metrics): jobs by state
 * and partition, the queue's depth, the nodes' states, each partition's CPUs and memory (in service and allocated),
 * the longest wait of a queued job, and when a reconciler last sampled (any reconciler's, on any host). Read from
 * Postgres rather than counted, so every API process answers the same and a restart resets nothing.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { OUT_OF_QUEUE_REASONS } from '../../shared/job/pending-reason.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import type { MetricFamily, Sample } from './metric-family.js';

const MB = 1024 * 1024;

/** One scrape's gauges; `now` is the scrape's time (ms) for the oldest wait. */
export async function readDatabaseGauges(db: Database, queue: JobQueue, now: number): Promise<MetricFamily[]> {
  const [jobs, nodes, partitions, oldest, sampled, depth] = await Promise.all([
    queryRows(db, sql`SELECT state, partition, count(*)::int AS n FROM jobs GROUP BY state, partition`),
    queryRows(
      db,
      sql`SELECT name, CASE WHEN state = 'UP' AND drained THEN 'DRAINING' ELSE state END AS state FROM nodes`,
    ),
    queryRows(
      db,
      sql`
        WITH capacity AS (
          SELECT partition, sum(cpus)::bigint AS cpus, sum(memory_mb)::bigint AS memory_mb
            FROM nodes, unnest(partitions) AS partition
           WHERE state <> 'DOWN'
           GROUP BY partition
        ), allocated AS (
          SELECT partition, sum(cpus)::bigint AS cpus, sum(memory_mb)::bigint AS memory_mb
            FROM jobs WHERE state = 'RUNNING' GROUP BY partition
        )
        SELECT partition, coalesce(c.cpus, 0)::float8 AS cpus, coalesce(c.memory_mb, 0)::float8 AS memory_mb,
               coalesce(a.cpus, 0)::float8 AS cpus_allocated, coalesce(a.memory_mb, 0)::float8 AS memory_allocated_mb
          FROM capacity c FULL JOIN allocated a USING (partition)`,
    ),
    // Jobs a hold, a begin time, a dependency or an account limit keeps out of the queue wait by choice, not for room.
    queryRows(
      db,
      sql`SELECT partition, extract(epoch FROM min(eligible_time))::float8 AS since
            FROM jobs
           WHERE state = 'PENDING'
             AND (reason IS NULL OR reason NOT IN (${sql.join(
               OUT_OF_QUEUE_REASONS.map((reason) => sql`${reason}`),
               sql`, `,
             )}))
           GROUP BY partition`,
    ),
    queryRows(db, sql`SELECT extract(epoch FROM max(sampled_at))::float8 AS at FROM utilisation_minutes`),
    queue.depth(),
  ]);
  const nodeStates = new Map<string, number>();
  for (const node of nodes) nodeStates.set(String(node.state), (nodeStates.get(String(node.state)) ?? 0) + 1);
  const perPartition = (column: string, scale = 1): Sample[] =>
    partitions.map((row) => ({ labels: { partition: String(row.partition) }, value: Number(row[column]) * scale }));
  const lastSample = sampled[0]?.at;
  return [
    gauge(
      'conductor_jobs',
      'Jobs by state and partition, as Postgres holds them (finished ones until retention deletes them).',
      jobs.map((row) => ({
        labels: { state: String(row.state), partition: String(row.partition) },
        value: Number(row.n),
      })),
    ),
    gauge(
      'conductor_queue_depth',
      'Refs queued (not claimed) per partition.',
      Object.entries(depth).map(([partition, value]) => ({ labels: { partition }, value })),
    ),
    gauge(
      'conductor_jobs_pending_oldest_wait_seconds',
      'How long the longest-waiting queued PENDING job of each partition has been eligible to start.',
      oldest.map((row) => ({
        labels: { partition: String(row.partition) },
        value: Math.max(0, now / 1000 - Number(row.since)),
      })),
    ),
    gauge(
      'conductor_nodes',
      'Registered nodes by state (UP, DRAINING, DOWN).',
      [...nodeStates].map(([state, value]) => ({ labels: { state }, value })),
    ),
    gauge(
      'conductor_node_up',
      'Whether each registered node is in service (1: UP or DRAINING, 0: DOWN).',
      nodes.map((row) => ({ labels: { node: String(row.name) }, value: row.state === 'DOWN' ? 0 : 1 })),
    ),
    gauge('conductor_partition_cpus', "CPUs of each partition's nodes in service.", perPartition('cpus')),
    gauge(
      'conductor_partition_cpus_allocated',
      "CPUs each partition's RUNNING jobs hold.",
      perPartition('cpus_allocated'),
    ),
    gauge(
      'conductor_partition_memory_bytes',
      "Memory of each partition's nodes in service.",
      perPartition('memory_mb', MB),
    ),
    gauge(
      'conductor_partition_memory_allocated_bytes',
      "Memory each partition's RUNNING jobs hold.",
      perPartition('memory_allocated_mb', MB),
    ),
    gauge(
      'conductor_reconciler_last_sample_timestamp_seconds',
      'When a reconciler (any host) last sampled utilisation, which it does once a minute while it runs.',
      lastSample === null || lastSample === undefined ? [] : [{ labels: {}, value: Number(lastSample) }],
    ),
  ];
}

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: 'gauge', samples });
