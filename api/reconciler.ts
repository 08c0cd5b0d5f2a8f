/**
 * Makes the queue agree with Postgres again, which is the truth (docs/architecture.md, invariant 1), and settles lost
 * nodes. The hosts run it on an interval (the Node host) or a schedule (the Workers host). Each run:
 * 0. marks DOWN the nodes whose lease has ended (CONDUCTOR_NODE_LEASE_SECONDS after their last heartbeat): their
 *    RUNNING jobs go back to PENDING (those that asked for requeue) or end NODE_FAIL, and the refs they claimed and
 *    never confirmed go back to the queue; then makes the queue's paused partitions those that start nothing now
 *    (DOWN or INACTIVE: api/partitions/partition-starts.ts), whatever another process changed or a flushed Redis forgot;
 * 1. releases the jobs an account's running limit holds whose account has room now (a race between a confirm and a
 *    run's end, or a limit raised: api/accounts/release-held-jobs.ts) and the jobs whose begin time has come
 *    (api/jobs/release-begun-jobs.ts), and re-decides a batch of the jobs waiting for a dependency (the safety net
 *    of the event-driven release: api/jobs/dependencies/settle-dependents.ts), then pushes the jobs whose push failed at
 *    submit, or that were requeued or released (marked not enqueued);
 * 2. sweeps a batch of PENDING jobs (but those an account limit holds, which wait for a release without a ref) older
 *    than `sweepAfterMs` and pushes those the queue holds no ref for: a process that died between commit and push, or a Redis that lost its data. The sweep resumes where the last run stopped,
 *    so every PENDING job is looked at within a few runs, however many there are;
 * 3. puts back refs claimed longer ago than `staleClaimMs` and never confirmed: a node that died between its claim
 *    and its confirm would otherwise strand their jobs in PENDING.
 * 4. deletes submits' idempotency keys past their 24 h (api/jobs/idempotent-submit.ts), a batch per run; one not yet
 *    deleted answers nothing already.
 * 5. samples the utilisation of the last minute for the history charts, once per minute across every reconciler
 *    (api/stats/sample-utilisation.ts), and deletes samples past their 8 days.
 * 6. deletes the stored output, then the rows, of finished jobs past their retention (api/jobs/purge-jobs.ts), a
 *    batch of each per run, archiving each job's record first where CONDUCTOR_ARCHIVE_JOBS says so. Last: a log store
 *    that does not answer fails the run only after the other steps. Then deletes a batch of the event stream's events
 *    past CONDUCTOR_EVENT_RETENTION_DAYS or CONDUCTOR_EVENT_MAX_ROWS (api/events/event-retention.ts).
 * 7. recomputes the PENDING jobs' priorities (fair share, age…) and pushes the changes to the queue's order, once per
 *    CONDUCTOR_PRIORITY_RECOMPUTE_SECONDS across every reconciler (api/priority/recompute-priority.ts).
 * A ref pushed for a job that started meanwhile is harmless: the confirm drops it.
 */
import { and, asc, eq, gt, lt } from 'drizzle-orm';
import { DEFAULT_PRIORITY, type PrioritySettings } from '../shared/config/priority-settings.js';
import { DEFAULT_RETENTION, type Retention } from '../shared/config/retention-settings.js';
import { clusterIdSource } from '../shared/db/cluster-id.js';
import type { Database } from '../shared/db/database.js';
import { jobs } from '../shared/db/schema.js';
import type { JobArchive } from '../shared/logs/job-archive.js';
import type { LogStore } from '../shared/logs/log-store.js';
import type { JobQueue } from '../shared/queue/job-queue.js';
import { sweepIdempotencyKeys } from './jobs/idempotent-submit.js';
import { releaseHeldJobs } from './accounts/release-held-jobs.js';
import { notOutOfQueue } from './jobs/out-of-queue.js';
import { releaseBegunJobs } from './jobs/release-begun-jobs.js';
import { settleWaitingDependents } from './jobs/dependencies/settle-dependents.js';
import { releaseArrayTasks } from './jobs/array-task-limit.js';
import { jobRef } from './jobs/job-ref.js';
import { pushNotEnqueued, refColumns } from './jobs/push-not-enqueued.js';
import { purgeJobs, purgeOutput } from './jobs/purge-jobs.js';
import { pruneEvents } from './events/event-retention.js';
import { recomputePriorities, type RecomputeResult } from './priority/recompute-priority.js';
import { syncPausedPartitions } from './partitions/partition-starts.js';
import { settleLostNodes } from './nodes/settle-lost-nodes.js';
import { sampledMinute, sampleUtilisation } from './stats/sample-utilisation.js';

export interface ReconcilerOptions {
  sweepAfterMs: number;
  batchSize: number;
  staleClaimMs: number;
  retention: Retention;
  /**
   * Where the nodes store job output, for retention to delete it, and to archive job records to; none: output is not
   * stored where the API sees (then CONDUCTOR_ARCHIVE_JOBS cannot be yes: the hosts' settings refuse it).
   */
  logs: (LogStore & JobArchive) | undefined;
  /** The priority's weights, ages and recompute interval (CONDUCTOR_PRIORITY_*). */
  priority: PrioritySettings;
}

// A confirm follows its claim within milliseconds; two minutes without one means the node is gone.
const EVENTS_PER_JOB_BATCH = 10;

export const DEFAULT_RECONCILER_OPTIONS: ReconcilerOptions = {
  sweepAfterMs: 30_000,
  batchSize: 1000,
  staleClaimMs: 120_000,
  retention: DEFAULT_RETENTION,
  logs: undefined,
  priority: DEFAULT_PRIORITY,
};

export class Reconciler {
  #sweepAfterId = 0;
  /** Where the next run's pass over the jobs waiting for a dependency resumes. */
  #dependentsAfterId = 0;
  /** The last minute this reconciler sampled or found sampled: runs every few seconds sample once a minute. */
  #sampledMinute = 0;
  readonly #clusterId = clusterIdSource();

  private readonly options: ReconcilerOptions;

  /** The database is given per run: on Workers each run has its own connection. */
  constructor(
    private readonly queue: JobQueue,
    options: Partial<ReconcilerOptions> = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
  }

  /** Answers how many refs each step pushed. */
  async run(db: Database): Promise<{
    nodesDown: string[];
    requeued: number;
    /** The partitions whose refs claims skip now (DOWN or INACTIVE). */
    paused: string[];
    /** Jobs an account's running limit held that it now has room for. */
    heldReleased: number;
    /** Array tasks a %N cap held that their array now has room for (api/jobs/array-task-limit.ts). */
    arrayTasksReleased: number;
    /** Jobs whose begin time (or retry backoff) came. */
    begun: number;
    /** Jobs waiting for a dependency this run found satisfied, or never satisfiable. */
    dependents: { released: number; cancelled: number; kept: number };
    pushed: number;
    swept: number;
    released: number;
    keysExpired: number;
    outputsPurged: number;
    jobsPurged: number;
    /** Events of the stream deleted past their retention (api/events/event-retention.ts). */
    eventsPruned: number;
    /** The minute this run sampled the utilisation of; null when sampled before (by this or another reconciler). */
    sampledMinute: Date | null;
    /** What the priority recompute did; null when another run (of any reconciler) did it within the interval. */
    priorities: RecomputeResult | null;
  }> {
    const lost = await settleLostNodes(db);
    for (const node of lost.nodes) await this.queue.requeueNode(node);
    const { batchSize, retention, logs } = this.options;
    const steps = {
      nodesDown: lost.nodes,
      requeued: lost.requeued,
      // First: claims skip what it pauses, whatever another process changed or a flushed Redis forgot.
      paused: await syncPausedPartitions(db, this.queue),
      // Before the push: the jobs it releases are marked not enqueued.
      heldReleased: await releaseHeldJobs(db),
      arrayTasksReleased: await releaseArrayTasks(db),
      begun: await releaseBegunJobs(db, this.now()),
      dependents: await this.#settleDependents(db),
      // The requeued jobs are marked not enqueued: this pushes them.
      pushed: (await pushNotEnqueued(db, this.queue, batchSize)).length,
      swept: await this.#sweep(db),
      released: await this.queue.releaseStale(this.options.staleClaimMs),
      keysExpired: await sweepIdempotencyKeys(db, batchSize),
      // Before retention: a log store that does not answer fails the run there, and must not stop the charts.
      sampledMinute: await this.#sample(db, this.now()),
      // After the sweep and releases: the refs it reorders are back in the queue by then.
      priorities: await recomputePriorities(db, this.queue, this.options.priority, this.now()),
    };
    const now = this.now();
    const outputsPurged = await purgeOutput(db, logs, () => this.#clusterId(db), retention, now, batchSize);
    const jobsPurged = await purgeJobs(db, logs, () => this.#clusterId(db), retention, now, batchSize);
    // Events come several to a job: a larger batch keeps up with a busy stream.
    const eventsPruned = await pruneEvents(db, retention, now, batchSize * EVENTS_PER_JOB_BATCH);
    return { ...steps, outputsPurged, jobsPurged, eventsPruned };
  }

  async #settleDependents(db: Database): Promise<{ released: number; cancelled: number; kept: number }> {
    const settled = await settleWaitingDependents(db, this.#dependentsAfterId, this.options.batchSize);
    this.#dependentsAfterId = settled.lastId;
    return { released: settled.released.length, cancelled: settled.cancelled.length, kept: settled.kept.length };
  }

  async #sample(db: Database, now: Date): Promise<Date | null> {
    const minute = sampledMinute(now).getTime();
    if (minute === this.#sampledMinute) return null;
    const written = await sampleUtilisation(db, now);
    this.#sampledMinute = minute;
    return written;
  }

  async #sweep(db: Database): Promise<number> {
    const olderThan = new Date(this.now().getTime() - this.options.sweepAfterMs);
    const rows = await db
      .select(refColumns)
      .from(jobs)
      .where(
        and(eq(jobs.state, 'PENDING'), gt(jobs.id, this.#sweepAfterId), lt(jobs.submitTime, olderThan), notOutOfQueue),
      )
      .orderBy(asc(jobs.id))
      .limit(this.options.batchSize);
    // A short page means the end: the next run starts from the beginning again.
    this.#sweepAfterId = rows.length < this.options.batchSize ? 0 : rows.at(-1)!.id;
    if (rows.length === 0) return 0;
    const missing = new Set(await this.queue.missing(rows.map((row) => row.id)));
    const refs = rows.filter((row) => missing.has(row.id)).map(jobRef);
    await this.queue.enqueue(refs);
    return refs.length;
  }
}
