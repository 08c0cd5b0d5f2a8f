/**
 * The dispatch queue: how a PENDING job reaches exactly one node that can fit it. It holds refs, never scripts, and
 * nothing Postgres cannot rebuild (docs/architecture.md, invariant 1). Duplicates and stale refs are harmless by
 * construction: a node runs a job only after the API confirmed PENDING → RUNNING for it, and the confirm drops the
 * rest.
 */
import type { RunsAs } from '../protocol/runs-as.js';

/** The small record the queue holds for a PENDING job. Submit order is the job id. */
export interface JobRef {
  id: number;
  partition: string;
  cpus: number;
  memoryMb: number;
  priority: number;
  /** Takes a whole, idle node. */
  exclusive: boolean;
  /** The job's owner (a Unix login name); null: it names none. A node is given only the jobs it runs. */
  user: string | null;
  /** The job's time limit in seconds, or UNLIMITED (null): what backfill needs to know it ends in time. */
  timeLimitSeconds: number | null;
}

/** A time limit of none (Slurm's `UNLIMITED`): such a job never backfills, and a start waiting on it is unknown. */
export const UNLIMITED = null;

/** A job running on a node, as backfill sees it: what it holds and when its time limit ends it. */
export interface RunningJob {
  cpus: number;
  memoryMb: number;
  /** Milliseconds from the claim until its time limit ends it (relative: the node's and the queue's clocks may differ); null: UNLIMITED. */
  endsInMs: number | null;
}

/** A node asking for work: what it has, and what of that is free now. */
export interface NodeCapacity {
  node: string;
  partitions: string[];
  cpus: number;
  memoryMb: number;
  freeCpus: number;
  freeMemoryMb: number;
  /** Whose jobs it runs: a claim skips the others, which stay queued for another node. */
  runsAs: RunsAs;
  /**
   * The jobs running on it (an exclusive one with all the node's cpus), for backfill; absent: unknown (an older
   * daemon), and then nothing backfills on it.
   */
  running?: RunningJob[];
}

export interface ClaimOptions {
  /** The most refs one claim takes. */
  max?: number;
}

export interface JobQueue {
  /**
   * True when refs are rows of the job database (the Postgres queue): the API then writes a job's ref in the same
   * statement as the job, instead of pushing it after the commit.
   */
  readonly storesRefsWithJobs: boolean;
  /** Adds refs; a ref already queued or claimed is left as it is, so pushing again is safe. */
  enqueue(refs: JobRef[]): Promise<void>;
  /**
   * Takes, atomically, the first refs in (priority desc, submit order) across the node's partitions that it runs
   * (runs-as.ts) and that fit its free cores and memory, and moves them to the node's claimed set until they are settled or returned.
   */
  claim(capacity: NodeCapacity, options?: ClaimOptions): Promise<JobRef[]>;
  /**
   * Forgets claimed refs the node is about to confirm. Answers the ids that really were the node's claims: the
   * only ones it may confirm.
   */
  settle(node: string, ids: number[]): Promise<number[]>;
  /** Puts claimed refs back in their queues, in their old places. Answers how many went back. */
  release(node: string, ids: number[]): Promise<number>;
  /** Puts every ref the node claimed and did not settle back: the node is gone. */
  requeueNode(node: string): Promise<number>;
  /**
   * Puts back refs claimed longer ago than this and never settled: a node that claimed and then died or lost its
   * confirm. A job must never be stranded in PENDING by a claim nobody will confirm.
   */
  releaseStale(olderThanMs: number): Promise<number>;
  /** Takes refs out of the queue, claimed or not: their jobs will not run (cancelled). */
  remove(ids: number[]): Promise<void>;
  /**
   * Replaces the set of paused partitions (DOWN or INACTIVE) with these names: no claim takes their refs, which stay
   * queued, in their places, and are claimable again once their partition is left out of a later call.
   */
  pausePartitions(names: string[]): Promise<void>;
  /** Of these job ids, the ones the queue holds no ref for, queued or claimed. */
  missing(ids: number[]): Promise<number[]>;
  /** Queued (unclaimed) refs per partition. */
  depth(): Promise<Record<string, number>>;
  close(): Promise<void>;
  /**
   * Gives refs their job's new priority (the priority recompute, api/priority/): a queued ref moves to its new place
   * in (priority desc, submit order); a claimed one stays claimed, and goes back to its new place if it is released.
   * Refs not held are ignored (a job that started or ended meanwhile). Answers how many queued refs were moved.
   */
  reprioritise(changes: { id: number; priority: number }[]): Promise<number>;
}

/** What every queue implementation is tuned by. */
export interface QueueTuning {
  /** How many refs from the head of each partition one claim looks at: bounds its cost, whatever the depth. */
  window: number;
  /** A partition's head waiting longer than this gets a reservation (anti-starvation). */
  starvationMs: number;
  /** Whether a node may start a job past a reserved head that ends before the head can start (first-fit.ts). */
  backfill: boolean;
}

export const DEFAULT_QUEUE_TUNING: QueueTuning = { window: 64, starvationMs: 30_000, backfill: true };
export const DEFAULT_CLAIM_MAX = 32;
