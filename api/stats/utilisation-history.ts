/**
 * The utilisation history of the last hour or day, read from the per-minute samples (sample-utilisation.ts) as columns
 * ready for a chart (uPlot's data: one array of times, then one array per series, all as long). The hour is read
 * minute by minute; the day in 5-minute buckets, aggregated in SQL: gauges (pending, running, CPUs) are the mean of
 * the bucket's sampled minutes, finished jobs its sum, the median wait the median of the waits of every job started
 * in it. A minute or bucket with no sample is null in every series (a gap, not a zero).
 */
import { and, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { sampledMinute } from './sample-utilisation.js';

export const HISTORY_WINDOWS = {
  hour: { stepSeconds: 60, steps: 60 },
  day: { stepSeconds: 300, steps: 288 },
} as const;
export type HistoryWindow = keyof typeof HISTORY_WINDOWS;

export const FINISHED_STATES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'] as const;
type FinishedState = (typeof FINISHED_STATES)[number];

const FINISHED_COLUMNS: Record<FinishedState, string> = {
  COMPLETED: 'finished_completed',
  FAILED: 'finished_failed',
  CANCELLED: 'finished_cancelled',
  TIMEOUT: 'finished_timeout',
  OUT_OF_MEMORY: 'finished_out_of_memory',
  NODE_FAIL: 'finished_node_fail',
};

type Series = (number | null)[];

export interface UtilisationHistory {
  window: HistoryWindow;
  step_seconds: number;
  /** Each bucket's start, unix seconds, oldest first. */
  times: number[];
  partitions: string[];
  cpus_allocated: Record<string, Series>;
  cpus_total: Record<string, Series>;
  pending: Series;
  running: Series;
  finished: Record<FinishedState, Series>;
  median_wait_seconds: Series;
}

export interface HistoryFilter {
  /** Only this partition's figures, its capacity included. */
  partition?: string | undefined;
  /** Only these accounts' jobs (a user token's, and the one it asked for: none when they differ); capacity is the cluster's. */
  accounts?: string[] | undefined;
}

/** The history of `window` up to the last minute sampled by now (sampledMinute(now)). */
export async function readUtilisationHistory(
  db: Database,
  window: HistoryWindow,
  filter: HistoryFilter,
  now: Date,
): Promise<UtilisationHistory> {
  const { stepSeconds, steps } = HISTORY_WINDOWS[window];
  const lastBucket = Math.floor(sampledMinute(now).getTime() / 1000 / stepSeconds) * stepSeconds;
  const times = Array.from({ length: steps }, (_, n) => lastBucket - (steps - 1 - n) * stepSeconds);
  const from = new Date(times[0]! * 1000).toISOString();
  const to = new Date((lastBucket + stepSeconds) * 1000).toISOString();
  const bucket = sql.raw(`(floor(extract(epoch FROM minute) / ${stepSeconds}) * ${stepSeconds})::float8`);
  const inWindow = sql`minute >= ${from}::timestamptz AND minute < ${to}::timestamptz`;
  const samplesWhere = and(
    inWindow,
    filter.partition === undefined ? undefined : sql`partition = ${filter.partition}`,
    ...(filter.accounts ?? []).map((account) => sql`account = ${account}`),
  )!;
  const [minutes, capacity, samples, medians] = await Promise.all([
    queryRows(
      db,
      sql`SELECT ${bucket} AS bucket, count(*)::int AS minutes FROM utilisation_minutes WHERE ${inWindow} GROUP BY 1`,
    ),
    queryRows(
      db,
      sql`SELECT ${bucket} AS bucket, cpus.key AS partition, sum(cpus.value::int)::float8 AS cpus
            FROM utilisation_minutes, jsonb_each_text(cpus_total) AS cpus
           WHERE ${inWindow} ${filter.partition === undefined ? sql`` : sql`AND cpus.key = ${filter.partition}`}
           GROUP BY 1, 2`,
    ),
    queryRows(
      db,
      sql`SELECT ${bucket} AS bucket, partition,
                 sum(pending)::float8 AS pending, sum(running)::float8 AS running,
                 sum(cpus_allocated)::float8 AS cpus_allocated,
                 ${sql.raw(
                   Object.values(FINISHED_COLUMNS)
                     .map((column) => `sum(${column})::float8 AS ${column}`)
                     .join(', '),
                 )}
            FROM utilisation_samples WHERE ${samplesWhere} GROUP BY 1, 2`,
    ),
    queryRows(
      db,
      sql`SELECT ${bucket} AS bucket, percentile_cont(0.5) WITHIN GROUP (ORDER BY wait) AS median
            FROM utilisation_samples, unnest(wait_seconds) AS wait WHERE ${samplesWhere} GROUP BY 1`,
    ),
  ]);

  const index = new Map(times.map((time, n) => [time, n]));
  const at = (row: Record<string, unknown>) => index.get(Number(row.bucket))!;
  const sampled = new Map(minutes.map((row) => [at(row), Number(row.minutes)]));
  // Sampled buckets start at 0 (nothing counted is none); the others stay null.
  const series = (): Series => times.map((_, n) => (sampled.has(n) ? 0 : null));
  const mean = (sum: number, n: number) => Math.round((sum / sampled.get(n)!) * 100) / 100;
  const partitions = [...new Set([...capacity, ...samples].map((row) => String(row.partition)))].sort();
  const history: UtilisationHistory = {
    window,
    step_seconds: stepSeconds,
    times,
    partitions,
    cpus_allocated: Object.fromEntries(partitions.map((partition) => [partition, series()])),
    cpus_total: Object.fromEntries(partitions.map((partition) => [partition, series()])),
    pending: series(),
    running: series(),
    finished: Object.fromEntries(FINISHED_STATES.map((state) => [state, series()])) as Record<FinishedState, Series>,
    median_wait_seconds: times.map(() => null),
  };
  for (const row of capacity) history.cpus_total[String(row.partition)]![at(row)] = mean(Number(row.cpus), at(row));
  for (const row of samples) {
    const n = at(row);
    history.cpus_allocated[String(row.partition)]![n] = mean(Number(row.cpus_allocated), n);
    history.pending[n]! += mean(Number(row.pending), n);
    history.running[n]! += mean(Number(row.running), n);
    for (const state of FINISHED_STATES) history.finished[state][n]! += Number(row[FINISHED_COLUMNS[state]]);
  }
  for (const row of medians) history.median_wait_seconds[at(row)] = Number(row.median);
  return history;
}
