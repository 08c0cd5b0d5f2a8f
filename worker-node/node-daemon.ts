/**
 * The node daemon (docs/architecture.md, section 3): heartbeats, claims what fits its free cores and memory, confirms
 * through the API, runs what was confirmed, enforces time and memory limits and cancels, and reports every start and
 * end through a durable outbox. Everything it must not forget is in its journal first, or in the files a run's wrapper
 * writes before the daemon hears of them (the pid, then the exit status): the journal holds each run from its confirm
 * to its acknowledged end, with the reason for any kill, and a run's start and end events are made again from its files
 * after a crash. So after its own crash it re-adopts the runs still alive, settles the ones that ended meanwhile, and
 * runs none twice.
 *
 * This file only puts the parts together (worker-node/README.md has the map): the run table, the heartbeat, claim,
 * watch and outbox loops, the run supervisor, and the recovery at start-up.
 */
import { join } from 'node:path';
import type { LogStore } from '../shared/logs/log-store.js';
import { createHash } from 'node:crypto';
import { ClaimLoop } from './claim-loop.js';
import { describeLevels } from './containment/containment-levels.js';
import { prepareNodeCgroups, removeNodeCgroups, type NodeCgroups } from './containment/node-cgroups.js';
import { sweepOrphanCgroups } from './containment/orphan-cgroups.js';
import type { ClaimSource } from './claim-source.js';
import { CoreAllocator } from './core-allocator.js';
import { lockCores, type CoreLease } from './core-locks.js';
import { HeartbeatLoop } from './heartbeat-loop.js';
import { LogShipper } from './log-shipper.js';
import { checkCluster, NodeCluster } from './node-cluster.js';
import { NodeLease } from './node-lease.js';
import type { NodeApi } from './node-api.js';
import type { NodeMetrics } from './node-metrics.js';
import { Outbox } from './outbox.js';
import { journalHasLiveJobs, recoverRuns } from './run-recovery.js';
import { workRoot } from './job-process.js';
import { assertExecutable, ensureDirectory, PASSABLE, PRIVATE, unpassableAncestor } from './private-dirs.js';
import { RunAs, type RunAsPolicy } from './run-as.js';
import { runName, RunSupervisor } from './run-supervisor.js';
import { runKey } from './run-record.js';
import { RunTable } from './run-table.js';
import { RunWatch } from './run-watch.js';
import { installSrun, programsDir } from './srun-program.js';
import type { Logger } from '../shared/log/logger.js';

export interface NodeDaemonOptions {
  node: string;
  partitions: string[];
  cpus: number;
  memoryMb: number;
  /** The node's own directory: journal, runs, and the default working directory of jobs. */
  dir: string;
  /** Machine-wide: where daemons on this machine record which cores they hold. */
  coreLockDir: string;
  machineCores: number;
  /** CPUs per core this node offers: 1 (the default) never shares a core between jobs. */
  oversubscribe: number;
  heartbeatMs: number;
  killGraceMs: number;
  memoryPollMs: number;
  /** Each run in cgroups where the machine allows (CONDUCTOR_CONTAINMENT, default on). */
  containment?: boolean;
  /** The most processes a job may have at once (pids cgroup); undefined: counted, not limited. */
  jobPidsMax?: number;
  claimIdleMaxMs: number;
  /** Who its jobs run as: their owners on a root daemon, itself in single-user mode. */
  runAs: RunAsPolicy;
  /**
   * Where jobs' output goes, how long new output may wait, the largest piece shipped at once, and the most output
   * waiting to be stored past which no new job is taken (undefined: no bound).
   */
  logs: { store: LogStore; flushMs: number; chunkBytes: number; spoolBytes?: number };
  api: NodeApi;
  source: ClaimSource;
  /** Where the daemon counts what it does (its /metrics); none: nothing is counted. */
  metrics?: NodeMetrics;
  log: Logger;
}

const runId = (record: { jobId: number; attempt: number }) => ({
  job_id: String(record.jobId),
  attempt: record.attempt,
});

// How long a stopping daemon waits for the output of runs that just ended to be stored.
const STOP_REPORT_WAIT_MS = 5000;

interface Parts {
  lease: CoreLease;
  cgroups: NodeCgroups;
  shipper: LogShipper;
  outbox: Outbox;
  supervisor: RunSupervisor;
  watch: RunWatch;
  heartbeat: HeartbeatLoop;
  claims: ClaimLoop;
  nodeLease: NodeLease;
}

export class NodeDaemon {
  readonly #table: RunTable;
  readonly #runAs: RunAs;
  #parts: Parts | undefined;

  constructor(private readonly options: NodeDaemonOptions) {
    const { metrics } = options;
    this.#table = new RunTable(join(options.dir, 'journal'), metrics && ((seconds) => metrics.journalWritten(seconds)));
    this.#runAs = new RunAs(options.runAs);
  }

  async start(): Promise<void> {
    const { options } = this;
    const { log } = options;
    const table = this.#table;
    // Every directory of the node's own: a new one belongs here too (its files are only as private as it is).
    const dirs: [string, number][] = [
      [options.dir, PASSABLE],
      [table.journalDir, PRIVATE],
      [join(options.dir, 'runs'), PRIVATE],
      [join(options.dir, 'shipped'), PRIVATE],
      [join(options.dir, 'confirming'), PRIVATE],
      [join(options.dir, 'cluster'), PRIVATE],
      [workRoot(options.dir), PASSABLE],
      [programsDir(options.dir), PASSABLE],
    ];
    for (const [dir, mode] of dirs) {
      const fixed = ensureDirectory(dir, mode);
      if (fixed) log.info(`node directory ${fixed}`);
    }
    assertExecutable(join(options.dir, 'runs'));
    const srunUnusable = installSrun(options.dir);
    if (srunUnusable) log.info(srunUnusable);
    const closed = this.#runAs.root ? unpassableAncestor(workRoot(options.dir)) : undefined;
    if (closed) {
      log.warn(
        `${closed} is closed to other users: owners' jobs cannot run the node's srun, and those naming no working ` +
          `directory cannot reach theirs in ${workRoot(options.dir)} (open ${closed} to passing through, mode o+x)`,
      );
    }
    // First: a node that is one cluster's refuses to start against another's API, before it touches anything.
    const cluster = new NodeCluster(options.dir);
    await checkCluster(cluster, options.api, log);
    const records = await table.readJournal();
    const live = records.filter((record) => !record.ended);
    const lease = await lockCores({
      dir: options.coreLockDir,
      machineCores: options.machineCores,
      count: options.cpus,
      required: [...new Set(live.flatMap((record) => record.cpuIds))],
      node: options.node,
      journalDir: table.journalDir,
      journalHasLiveJobs,
    });
    // CPUs are the allocator's unit: one per core, or `oversubscribe` per core, numbered core by core in turns.
    const slots = lease.cores.length * options.oversubscribe;
    const allocator = new CoreAllocator(Array.from({ length: slots }, (_, slot) => slot));
    const cgroups = prepareNodeCgroups(cgroupNodeName(options.node, options.dir), options.containment ?? true);
    const { metrics } = options;
    const shipper = new LogShipper({
      ...options.logs,
      store: metrics ? metrics.measuredStore(options.logs.store) : options.logs.store,
      dir: join(options.dir, 'shipped'),
      // Back under its bound: a claim may take work again at once.
      spoolChanged: (full) => {
        if (!full) claims.notify();
      },
      log,
    });
    const outbox = new Outbox({
      pending: () => table.all().map((run) => ({ key: run.key, events: run.record.outbox })),
      send: async (events) => {
        await options.api.events(events);
        metrics?.reported(events, (jobId, attempt) => table.get(runKey({ jobId, attempt }))?.record.kill);
      },
      acknowledged: (key, count): Promise<void> => supervisor.acknowledged(key, count),
      log,
    });
    const nodeLease = new NodeLease({
      file: join(options.dir, 'lease'),
      killGraceMs: options.killGraceMs,
      expiring: () => supervisor.stopAll('LEASE_EXPIRED'),
      log,
    });
    const supervisor = new RunSupervisor({
      ...options,
      leaseFile: join(options.dir, 'lease'),
      runAs: this.#runAs,
      table,
      allocator,
      shipper,
      outbox,
      cgroups,
      coresFreed: () => claims.notify(),
    });
    const watch = new RunWatch({ table, supervisor, memoryPollMs: options.memoryPollMs, now: Date.now, log });
    const heartbeat = new HeartbeatLoop({
      ...options,
      runsAs: this.#runAs.runsAs,
      cpus: allocator.cores,
      running: () => table.unended().map(({ record }) => runId(record)),
      ended: () => table.ended().map(({ record }) => runId(record)),
      confirmedThrough: (): number | undefined => claims.confirmedThrough,
      containment: cgroups.levels,
      cluster: (id) => cluster.learn(id),
      stateChanged: () => claims.notify(),
      kill: (key, reason) => supervisor.kill(key, reason),
      leaseRenewed: (sentAt, seconds) => nodeLease.renewed(sentAt, seconds),
    });
    const claims = new ClaimLoop({
      ...options,
      runsAs: this.#runAs.runsAs,
      table,
      allocator,
      leasedCores: lease.cores,
      // Past the spool bound, no new job: its output would only add to what waits for the log store.
      up: () => heartbeat.state === 'UP' && !shipper.spoolFull,
      mismatch: (error) => heartbeat.mismatch(error),
      settle: (run) => supervisor.settle(run),
      launch: (runs) => {
        metrics?.launched(runs.length);
        supervisor.launchAll(runs);
      },
      busy: () => heartbeat.busy(),
    });
    metrics?.watch({
      runs: () => table.all(),
      unended: () => table.unended(),
      cpus: slots,
      memoryMb: options.memoryMb,
      unshippedBytes: () => shipper.unshipped(),
    });
    this.#parts = { lease, cgroups, shipper, outbox, supervisor, watch, heartbeat, claims, nodeLease };

    await shipper.start();
    await recoverRuns(records, { table, allocator, shipper, supervisor, log, now: Date.now });
    // The runs are back: a run cgroup none of them owns was left by an earlier daemon, and only this one can go.
    const orphans = await sweepOrphanCgroups(cgroups, new Set(table.all().map((run) => runName(run.record))));
    if (orphans.removed) log.info(`removed ${orphans.removed} run cgroup(s) no run owns, and what was left in them`);
    for (const why of orphans.failed) log.warn(`a run cgroup no run owns is left: ${why}`);
    // After the runs are back in the table: a lease ending before the first heartbeat is answered stops them.
    nodeLease.resume();
    outbox.start();
    watch.start();
    heartbeat.start();
    await claims.start();
    log.info(
      `node ${options.node} started: cores ${lease.cores.join(',')} (${slots} CPUs), ${options.memoryMb} MB, ` +
        `partitions ${options.partitions.join(',')}, ${live.length} run(s) from the journal; ` +
        `containment: ${describeLevels(cgroups.levels)}; cluster ${cluster.id ?? 'not known yet'}`,
    );
    if (cgroups.slowJoin) log.info(cgroups.slowJoin);
    log.info(this.#runAs.describe());
  }

  /** New work may be in the queue for one of our partitions. */
  wake(): void {
    this.#parts?.claims.notify();
  }

  /**
   * Stops claiming and leaves running jobs running (a restarted daemon re-adopts them); sends what the outbox holds.
   * The cores stay this node's while any of its jobs runs.
   */
  async stop(): Promise<void> {
    if (!this.#parts) return;
    const { lease, shipper, outbox, supervisor, watch, heartbeat, claims, nodeLease } = this.#parts;
    await Promise.all([heartbeat.stop(), claims.stop()]);
    // The runs left running are their wrappers' to stop at the lease's end, if no daemon renews it by then.
    nodeLease.stop();
    await supervisor.launched();
    await watch.stop();
    // Runs that just ended get a moment to store their output and be reported; the rest are after the next start.
    await supervisor.reported(STOP_REPORT_WAIT_MS);
    await shipper.stop();
    await supervisor.reported();
    await outbox.close();
    await outbox.flush();
    await this.options.source.close();
    const running = this.#table.unended().length;
    if (running === 0) {
      await lease.release();
      // No run is left in them: the node's cgroups go too (a restart makes them again).
      removeNodeCgroups(this.#parts.cgroups);
    }
    this.options.log.info(`node ${this.options.node} stopped; ${running} job(s) left running`);
  }
}

/**
 * The node's name among the machine's cgroups: its name and its directory's, so two daemons of the same name on one
 * machine (test suites) never share a run's cgroup, and a restarted daemon (same directory) finds its runs' again.
 */
export function cgroupNodeName(node: string, dir: string): string {
  return `${node}.${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}
