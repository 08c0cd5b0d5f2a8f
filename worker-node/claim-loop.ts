/**
 * The node's claims: paced (claim-pacer.ts), only while the API says the node is UP and it has free cores and memory.
 * Claimed refs are confirmed through the API, which answers what really starts; those jobs are admitted (their cores
 * allocated, their records journaled) and handed on to be launched. A confirm that fails is tried again with a growing
 * pause; one the API refuses is given up, the refs left to its reconciler.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { NodeJob } from '../shared/protocol/confirm.js';
import type { RunsAs } from '../shared/protocol/runs-as.js';
import { DEFAULT_CLAIM_MAX } from '../shared/queue/job-queue.js';
import { Backoff } from '../shared/backoff.js';
import { ClaimPacer } from './claim-pacer.js';
import type { ClaimSource } from './claim-source.js';
import type { CoreAllocator } from './core-allocator.js';
import { DaemonLoop } from './daemon-loop.js';
import { outputPaths } from './job-process.js';
import { Journal } from './journal.js';
import { ApiRefused, ProtocolMismatch, type NodeApi } from './node-api.js';
import { runKey, type RunRecord } from './run-record.js';
import { runningJobs } from './running-jobs.js';
import type { Run, RunTable } from './run-table.js';
import { errorFields, type Logger } from '../shared/log/logger.js';

export interface ClaimLoopOptions {
  node: string;
  partitions: string[];
  runsAs: RunsAs;
  memoryMb: number;
  /** The node's own directory: its confirm journal, runs, and the default working directory of jobs. */
  dir: string;
  claimIdleMaxMs: number;
  source: ClaimSource;
  api: Pick<NodeApi, 'confirm'>;
  table: RunTable;
  allocator: CoreAllocator;
  /** The machine cores the node holds, in the order its CPU slots are laid on them. */
  leasedCores: number[];
  /** The API last said the node is UP. */
  up(): boolean;
  mismatch(error: ProtocolMismatch): void;
  /** Settles a run that cannot start. */
  settle(run: Run): Promise<void>;
  launch(runs: Run[]): void;
  /** A run was admitted. */
  busy(): void;
  log: Logger;
}

const CONFIRM_RETRY = { minMs: 100, maxMs: 2000 };

export class ClaimLoop {
  readonly #loop: DaemonLoop;
  readonly #pacer: ClaimPacer;
  readonly #confirming: Journal<number[]>;
  /** Ids confirmed before a crash whose answer never reached the journal: confirmed again before any claim. */
  #unanswered: number[] | undefined;
  /** The first pass confirms before any claim: the ids left unanswered by a crash, or none (to learn the sequence). */
  #resumed = false;
  #confirmedThrough: number | undefined;
  /** The confirm journal could not be written (a full node disk): its pause before trying again, growing. */
  #journalFailing = false;
  readonly #journalRetry = new Backoff(CONFIRM_RETRY);

  constructor(private readonly options: ClaimLoopOptions) {
    this.#pacer = new ClaimPacer({ minMs: 100, maxMs: options.claimIdleMaxMs, factor: 2, jitter: 0.1 });
    this.#confirming = new Journal(join(options.dir, 'confirming'));
    this.#loop = new DaemonLoop({ name: 'claim', pass: () => this.#pass(), log: options.log });
  }

  /** Work confirmed before a crash whose answer was lost is confirmed again (the API answers the same), then claims. */
  async start(): Promise<void> {
    [this.#unanswered] = await this.#confirming.readAll();
    this.#loop.start();
  }

  /**
   * The highest confirm sequence (the API's `sequence`) whose jobs are all in the run table: every job confirmed to
   * this node under it or an earlier one is held here, or was forgotten after the API acknowledged its end. Undefined
   * until a confirm since this start was answered with one: a daemon that just started knows its journaled runs, but
   * not whether a confirm's answer was lost on the way, until it has asked again.
   */
  get confirmedThrough(): number | undefined {
    return this.#confirmedThrough;
  }

  /** New work may be in the queue for one of the node's partitions, or it may fit now: claim at once. */
  notify(): void {
    this.#pacer.reset();
    this.#loop.notify();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #pass(): Promise<number> {
    if (!this.#resumed) {
      const ids = (this.#unanswered ?? []).filter((id) => !this.options.table.hasRunOf(id));
      this.#unanswered = undefined;
      this.#resumed = true;
      // Even with no ids: the answer says the node's confirm sequence, which the heartbeat needs.
      if (!(await this.#confirm(ids))) return this.#journalRetry.next();
      return 0;
    }
    const { allocator, memoryMb } = this.options;
    const unended = this.options.table.unended().map((run) => run.record);
    let freeMemoryMb = memoryMb;
    for (const record of unended) freeMemoryMb -= record.job.memory_mb;
    if (!this.options.up() || allocator.free === 0 || freeMemoryMb <= 0) {
      this.#pacer.record(false);
      return this.#pacer.waitMs();
    }
    let ids: number[];
    try {
      ids = await this.options.source.claim(
        {
          node: this.options.node,
          partitions: this.options.partitions,
          cpus: allocator.cores,
          memoryMb,
          freeCpus: allocator.free,
          freeMemoryMb,
          runsAs: this.options.runsAs,
          running: runningJobs(unended, allocator.cores, Date.now()),
        },
        DEFAULT_CLAIM_MAX,
      );
    } catch (error) {
      this.options.log.warn(`claim failed: ${(error as Error).message}`, errorFields(error));
      if (error instanceof ProtocolMismatch) this.options.mismatch(error);
      this.#pacer.record(false);
      return this.#pacer.waitMs();
    }
    this.#pacer.record(ids.length > 0);
    if (ids.length && !(await this.#confirm(ids))) return this.#journalRetry.next();
    return this.#pacer.waitMs();
  }

  /**
   * Confirms claimed refs and launches what the API says to run. The ids are journaled first: if the daemon dies
   * before the answer is, the restarted daemon asks again and gets the same jobs. They are not removed once answered
   * (that would cost a synced write between every claim and its start): the next claim's ids replace them, and ids
   * asked about again after a restart whose runs are journaled, or long done, change nothing.
   */
  async #confirm(ids: number[]): Promise<boolean> {
    try {
      if (ids.length === 0) await this.#confirming.remove('confirming');
      else await this.#confirming.write('confirming', ids);
    } catch (error) {
      // A full node disk: never confirmed unjournaled. They are confirmed first (journal first) at the next pass, and
      // nothing new is claimed before; if that is after the API's stale-claim time, the API has put them back.
      if (!this.#journalFailing) {
        this.options.log.error(
          `claimed job(s) ${ids.join(', ')} not confirmed yet: the node cannot journal them (${(error as Error).message}); ` +
            'no claim until it can',
        );
      }
      this.#journalFailing = true;
      this.#unanswered = ids;
      this.#resumed = false;
      return false;
    }
    if (this.#journalFailing) this.options.log.info('the node journals again; claims resume');
    this.#journalFailing = false;
    this.#journalRetry.reset();
    const retry = new Backoff(CONFIRM_RETRY);
    let admitted: (Run | undefined)[] = [];
    for (;;) {
      try {
        const { jobs, sequence, cluster_id } = await this.options.api.confirm(ids);
        admitted = await Promise.all(jobs.map((job) => this.#admit(job, cluster_id)));
        // Only now: every job of the answer is in the run table (and its journal). Taken as said, not as a maximum:
        // one confirm at a time, so answers rise; one that fell (a database restored) is the truth from now on.
        if (sequence !== undefined) this.#confirmedThrough = sequence;
        break;
      } catch (error) {
        if (error instanceof ApiRefused) {
          // Nothing started: the refs stay claimed until the API's reconciler puts them back.
          this.options.log.warn(`confirm refused: ${error.message}`, { job_ids: ids, ...errorFields(error) });
          break;
        }
        this.options.log.warn(`confirm failed, retrying: ${(error as Error).message}`, {
          job_ids: ids,
          ...errorFields(error),
        });
        // Stopping with the answer unknown: the journal keeps the ids, and the next start asks again.
        if (!(await this.#loop.pause(retry.next()))) return true;
      }
    }
    this.options.launch(admitted.filter((run) => run !== undefined));
    return true;
  }

  /**
   * Takes a confirmed job in: its cores, and its record in the journal (with the cluster id of the API that confirmed
   * it, under which its output is stored). Answers the run to launch, if any.
   */
  async #admit(job: NodeJob, cluster: string | undefined): Promise<Run | undefined> {
    const { allocator, table } = this.options;
    const jobId = Number(job.id);
    const key = runKey({ jobId, attempt: job.attempt });
    if (table.has(key)) return undefined;
    // An exclusive job has the whole node: every core is its own.
    const slots = allocator.allocate(key, job.exclusive ? allocator.cores : job.cpus);
    const paths = outputPaths(job, this.options.dir);
    const record: RunRecord = {
      job,
      jobId,
      attempt: job.attempt,
      ...(cluster === undefined ? {} : { cluster }),
      dir: join(this.options.dir, 'runs', key),
      slots: slots ?? [],
      cpuIds: this.#coresOf(slots ?? []),
      outputBase: { stdout: await fileSize(paths.stdout), stderr: await fileSize(paths.stderr) },
      outbox: [],
    };
    const run = table.admit(record);
    if (!slots) {
      record.launchError = `not enough free cores on ${this.options.node} (${allocator.free} free)`;
      await this.options.settle(run);
      return undefined;
    }
    try {
      await table.save(run);
    } catch (error) {
      // Never run unjournaled: a restarted daemon would not know it, and the API would settle it while it runs.
      record.launchError = `cannot start on ${this.options.node}: its run cannot be journaled: ${(error as Error).message}`;
      await this.options.settle(run);
      return undefined;
    }
    // Busy now: the next heartbeat (which carries cancels) must not wait out an idle pause.
    this.options.busy();
    return run;
  }

  /** The machine cores under these CPU slots. */
  #coresOf(slots: number[]): number[] {
    const cores = this.options.leasedCores;
    return [...new Set(slots.map((slot) => cores[slot % cores.length]!))].sort((a, b) => a - b);
  }
}

/** Taken at admission, where a slow filesystem only delays the run's own start. */
async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (stats) => stats.size,
    () => 0,
  );
}
