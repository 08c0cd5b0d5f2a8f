/**
 * What the daemon does to its runs, each step moving a run on in run-state.ts: launches an admitted run, kills one
 * for a reason of its own (the reason journaled before the first signal), settles one whose process has ended (what
 * is left of its group ended too, its cores freed), reports its end once its output is all stored, and forgets it
 * once the API has acknowledged. A run's start and end events are not journaled when they happen: after a crash its
 * pid and status files tell them again; only the end of a run that never started, which no file tells, is.
 */
import { LOG_STREAMS } from '../shared/logs/log-store.js';
import type { NodeCgroups } from './containment/node-cgroups.js';
import { RunContainment } from './containment/run-containment.js';
import type { FinishedEvent } from '../shared/protocol/events.js';
import type { CoreAllocator } from './core-allocator.js';
import { faultPoint } from './fault-points.js';
import { finishedEvent, type KillReason } from './job-ending.js';
import { jobEnvironment } from './job-environment.js';
import { LaunchRefused, type JobStart } from './job-launcher.js';
import { groupAlive, launchJob, outputPaths, readJobExit, removeRunDirectory, terminateGroup } from './job-process.js';
import { ShipperStopped, type LogShipper, type OutputFile } from './log-shipper.js';
import type { Outbox } from './outbox.js';
import { commandLine, groupMembers, parentProcess, processStartTime, processState } from './process-table.js';
import { ownerOf, type RunAs } from './run-as.js';
import type { RunEnding } from './run-ending-rule.js';
import { awaitsItsEnd, hasEnded } from './run-state.js';
import { hasProcess, type Run, type RunTable } from './run-table.js';
import { programsDir, srunPath } from './srun-program.js';
import { readWrapperUsage, runUsage } from './run-usage.js';
import { signalNumber } from '../shared/job/warn-signal.js';
import { errorFields, type Logger } from '../shared/log/logger.js';

export interface RunSupervisorOptions {
  node: string;
  /** The node's own directory: the default working directory of jobs is in it. */
  dir: string;
  killGraceMs: number;
  /** Who the node's jobs run as. */
  runAs: RunAs;
  table: RunTable;
  allocator: CoreAllocator;
  shipper: LogShipper;
  outbox: Outbox;
  /** The node's cgroups and containment levels: each run gets its own under them. */
  cgroups: NodeCgroups;
  /** The node's lease file, handed to each run's wrapper (node-lease.ts); undefined: runs are not fenced. */
  leaseFile?: string;
  /** The most processes a job may have at once, where a pids cgroup counts them; undefined: no limit. */
  jobPidsMax?: number;
  /** A run's cores are free again: a claim may find work that fits now. */
  coresFreed(): void;
  log: Logger;
}

export class RunSupervisor {
  readonly #launches = new Set<Promise<void>>();
  readonly #reports = new Set<Promise<void>>();
  /** Each run's containment, by run key: made at launch, or found again by name for a run re-adopted. */
  readonly #contained = new Map<string, RunContainment>();
  /** Runs whose job had ended on its own when a kill came (kill): said once, and their leftovers ended once. */
  readonly #endedUnrecorded = new Set<string>();
  /** Admitted runs waiting for an earlier attempt of their job to end on this node, by job id. */
  readonly #waiting = new Map<number, Run[]>();

  constructor(private readonly options: RunSupervisorOptions) {}

  /** Launches admitted runs without holding up the caller; `launched()` waits for them. */
  launchAll(runs: Run[]): void {
    for (const run of runs) {
      const launch = this.launch(run).finally(() => this.#launches.delete(launch));
      this.#launches.add(launch);
    }
  }

  async launch(run: Run): Promise<void> {
    const { table, node } = this.options;
    const { record } = run;
    const { job } = record;
    // Never two attempts of a job at once: an earlier attempt still here (re-adopted after a restart, being stopped
    // while the API requeued its job) ends first, and its output is stored first (this one may empty the file it is
    // read from, or write past where it ends); this one starts then (#launchWaiting).
    const earlier = table
      .all()
      .find((other) => other.record.jobId === record.jobId && other !== run && holdsItsFiles(other));
    if (earlier) {
      this.#log(run).info(
        `job ${run.record.jobId}: attempt ${record.attempt} waits for attempt ${earlier.record.attempt} to end here`,
      );
      this.#waiting.set(record.jobId, [...(this.#waiting.get(record.jobId) ?? []), run]);
      return;
    }
    const paths = outputPaths(job, this.options.dir);
    table.move(run, 'launching');
    try {
      const identity = this.options.runAs.identity(ownerOf(job));
      if ('refused' in identity) throw new LaunchRefused(identity.refused);
      // Before the launch: the job's process joins its cgroups before it runs a thing of its own.
      const containment = RunContainment.create(this.options.cgroups, runName(record), {
        memoryMb: job.memory_mb,
        cpuIds: record.cpuIds,
        pidsMax: this.options.jobPidsMax,
      });
      this.#contained.set(run.key, containment);
      faultPoint('launch.journaled');
      const launched = await launchJob({
        dir: record.dir,
        script: job.script,
        cwd: paths.cwd,
        // The marker last: a job's own environment cannot name another run.
        env: {
          ...jobEnvironment(
            {
              id: job.id,
              name: job.name,
              attempt: job.attempt,
              partition: job.partition,
              account: job.account,
              ntasksPerNode: job.ntasks_per_node,
              cpusPerTask: job.cpus_per_task,
              memoryMb: job.memory_mb,
              cpus: record.slots.length,
              environment: job.environment,
              workDir: paths.cwd,
              user: identity.user ?? this.options.runAs.login,
            },
            node,
            record.cpuIds,
            programsDir(this.options.dir),
          ),
          ...containment.env,
        },
        cgroupProcs: containment.cgroupProcs,
        leaseFile: this.options.leaseFile,
        stdoutPath: paths.stdout,
        stderrPath: paths.stderr,
        openMode: paths.openMode,
        cpuIds: record.cpuIds,
        user: identity.user,
        minUid: this.options.runAs.policy.minUid,
        makeCwd: paths.made,
      });
      faultPoint('launch.started');
      this.#log(run).info(`job ${run.record.jobId}: launched`, { pid: launched.pid, cpu_ids: record.cpuIds });
      // Not journaled again: after a crash the pid file tells the pid, and the started event is made anew.
      this.started(run, launched, Date.now());
      this.options.outbox.notify();
      this.ship(run);
      // The launcher says the run ended once its status file is written (run-ending-rule.ts's first case): settled
      // at once. If the launcher goes first, the status file still comes: the watch finds it, as for any run.
      launched.ended.then(
        () => this.settle(run),
        () => {},
      );
    } catch (error) {
      // Named with the node: the owner's account may exist on other nodes (no user alice here, uid too low).
      record.launchError = `cannot start on ${node}: ${(error as Error).message}`;
      if (error instanceof LaunchRefused && !error.byNode) record.launchFailedBy = 'job';
      this.#log(run).warn(`job ${run.record.jobId}: launch failed`, errorFields(error));
      await this.settle(run);
    }
  }

  /** Its wrapper has said its pid: the run is running, and its start is in the outbox. */
  started(run: Run, start: JobStart, startedAt: number): void {
    const { record } = run;
    const { pid, startTime, wrapper, outputIds, outputBase } = start;
    Object.assign(
      record,
      { pid, startTime, startedAt },
      wrapper ? { wrapper } : {},
      outputIds ? { outputIds } : {},
      // Where this run's output starts, as its files were when it opened them: more exact than the sizes measured at
      // its admission (another attempt may have written since), and 0 in a file it emptied.
      outputBase ? { outputBase } : {},
    );
    this.options.table.move(run, 'running');
    record.outbox.push({
      kind: 'started',
      job_id: String(record.jobId),
      attempt: record.attempt,
      pid,
      cpu_ids: record.cpuIds,
    });
  }

  /**
   * Ships the run's output files from now on. One file for both streams (the same path, or the same file as the job
   * opened them) is shipped once, as stdout: the API answers for stderr that it is merged there.
   */
  ship(run: Run): void {
    const { record } = run;
    const paths = outputPaths(record.job, this.options.dir);
    const merged =
      paths.stdout === paths.stderr ||
      (record.outputIds !== undefined && record.outputIds.stdout === record.outputIds.stderr);
    const files: OutputFile[] = (merged ? (['stdout'] as const) : LOG_STREAMS).map((stream) => ({
      stream,
      path: paths[stream],
      // What the job opened as its owner: a file it puts in that path's place later is not shipped.
      ...(record.outputIds ? { id: record.outputIds[stream] } : {}),
      // Journaled by a daemon from before output shipping: its files are shipped whole.
      base: record.outputBase?.[stream] ?? 0,
    }));
    this.options.shipper.track(run.key, record, files);
  }

  /** Ends a run for a reason of the daemon's: the reason is journaled before the first signal. */
  kill(key: string, reason: KillReason): void {
    const run = this.options.table.get(key);
    if (!run || run.record.kill || !hasProcess(run)) return;
    // Its job's process has ended on its own, and its end waits to be recorded (its wrapper cannot write the status
    // file: a full disk): that end is the run's, not this kill's. What the job left behind is ended all the same.
    if (processState(run.record.pid!, run.record.startTime!) === 'gone') {
      if (this.#endedUnrecorded.has(key)) return;
      this.#endedUnrecorded.add(key);
      this.#log(run).info(`job ${run.record.jobId}: ended already, its end not recorded yet; not ${reason}`, {
        reason,
      });
      void this.terminate(run);
      return;
    }
    run.record.kill = reason;
    this.#log(run).info(`job ${run.record.jobId}: ending it (${reason})`, { reason });
    // A cancel, a limit or the lease's end does not wait for a full disk: the reason is in memory and reported; only a
    // daemon crash before the report would lose it (the run would end FAILED by its signal, never COMPLETED).
    void this.#save(run, `its reason for ending (${reason})`).then(() => this.terminate(run));
  }

  /**
   * Journals the run's record; on a failure (a full node disk) says what is not journaled and goes on, as the
   * record in memory still tells the run's end. Never rejects.
   */
  async #save(run: Run, what: string): Promise<void> {
    try {
      await this.options.table.save(run);
    } catch (error) {
      this.#log(run).error(`job ${run.record.jobId}: ${what} not journaled`, errorFields(error));
    }
  }

  /**
   * Sends the run its job's warning signal (sbatch --signal), as sbatch(1) says: with `B:` to the batch shell only (the
   * job's process); without, to its steps and not to the batch shell: every process started by one of the job's sruns
   * (the node's srun.pl), its tasks and what they started, as slurmstepd signals a step's every process. A job that
   * started no srun gets nothing then, as under Slurm. Once: `warned` is journaled before the signal goes. Nothing for
   * a run being ended, or ended.
   */
  warn(key: string): void {
    const run = this.options.table.get(key);
    const warning = run?.record.job.signal;
    if (!run || !warning || run.record.warned || run.record.kill || !hasProcess(run)) return;
    run.record.warned = true;
    const send = () => {
      const pids = warning.batch_only ? [run.record.pid!] : this.#stepProcesses(run);
      const target = warning.batch_only ? 'its batch shell' : `the ${pids.length} process(es) of its steps`;
      this.#log(run).info(`job ${run.record.jobId}: sending SIG${warning.signal} to ${target} (--signal)`, {
        signal: warning.signal,
      });
      for (const pid of pids) {
        try {
          process.kill(pid, signalNumber(warning.signal));
        } catch (error) {
          // Gone meanwhile: nothing to warn.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
    };
    this.options.table
      .save(run)
      .then(send)
      .catch((error: Error) =>
        this.#log(run).warn(`job ${run.record.jobId}: warning signal not sent`, errorFields(error)),
      );
  }

  /**
   * The processes of the run's steps: among its processes (its cgroups', its group's), those below a process running
   * the node's srun. Not the sruns: they pass on only what comes from inside the job (srun.pl).
   */
  #stepProcesses(run: Run): number[] {
    const srun = srunPath(this.options.dir);
    const processes = [...new Set([...this.containment(run).members(), ...groupMembers(run.record.pid!)])];
    const parents = new Map(processes.map((pid) => [pid, parentProcess(pid)]));
    const sruns = new Set(processes.filter((pid) => commandLine(pid)?.[1] === srun));
    const inStep = (pid: number) => {
      // Up through the job's own processes only: the walk ends at its batch shell's parent, the wrapper.
      for (let up = parents.get(pid); up !== undefined; up = parents.get(up)) if (sruns.has(up)) return true;
      return false;
    };
    return processes.filter((pid) => !sruns.has(pid) && inStep(pid));
  }

  /** The node's lease is ending unrenewed: every run is stopped before the API may settle it and start it elsewhere. */
  stopAll(reason: KillReason): void {
    for (const run of this.options.table.unended()) this.kill(run.key, reason);
  }

  /**
   * Acts on run-ending-rule.ts's verdict, the only way a running run is found ended: one ended by its status file, or
   * whose job is gone too, is settled; one whose job still runs without its wrapper is ended as lost. Nothing for a
   * run that has not ended.
   */
  async end(run: Run, ending: RunEnding): Promise<void> {
    if (!ending.ended) return;
    if (ending.exit === undefined && ending.jobAlive) return this.wrapperLost(run);
    return this.settle(run);
  }

  /**
   * The run's wrapper is gone and left no outcome: no launcher or status file will tell its end. Every process of
   * the run is killed and the run settled, FAILED for its lost wrapper unless the daemon was ending it already (a
   * cancel stays a cancel). Once per run.
   */
  async wrapperLost(run: Run): Promise<void> {
    if (run.wrapperLost || !hasProcess(run)) return;
    run.wrapperLost = true;
    if (!run.record.kill) {
      run.record.kill = run.lostWithDaemon ? 'DAEMON_LOST_WRAPPER' : 'WRAPPER_LOST';
      this.#log(run).warn(`job ${run.record.jobId}: its wrapper was lost; ending it`, { reason: run.record.kill });
      await this.#save(run, 'its lost wrapper');
    }
    await this.terminate(run);
    await this.settle(run);
  }

  /**
   * Ends the run: SIGCONT then SIGTERM, once each, to every process in its process group and its cgroups (a stopped
   * job runs its TERM trap, once, as under Slurm), the grace period, then SIGKILL to whatever is left, in its group and
   * (the kill level) its cgroups. A kill interrupted by a crash goes on this way too.
   */
  async terminate(run: Run): Promise<void> {
    const containment = this.containment(run);
    try {
      // Its processes that left its group first; then the group (terminateGroup): each gets CONT and TERM once.
      containment.signal('SIGCONT', run.record.pid!);
      containment.signal('SIGTERM', run.record.pid!);
      await terminateGroup(run.record.pid!, this.options.killGraceMs);
      await containment.killAll();
    } catch (error) {
      // Its cores are given out again all the same: a process that SIGKILL cannot end does not run.
      this.#log(run).error(`job ${run.record.jobId}: ${(error as Error).message}`);
    }
  }

  /** The run's containment: the one made at its launch, or (re-adopted after a restart) found again by its name. */
  containment(run: Run): RunContainment {
    let containment = this.#contained.get(run.key);
    if (!containment) {
      containment = RunContainment.find(this.options.cgroups, runName(run.record));
      this.#contained.set(run.key, containment);
    }
    return containment;
  }

  /**
   * The run's process has ended (or never started): its outcome goes to the outbox, its cores are free. Once per
   * run: a run already being ended is left to that.
   */
  async settle(run: Run): Promise<void> {
    if (!awaitsItsEnd(run.phase)) return;
    const { table, outbox } = this.options;
    const { record } = run;
    table.move(run, 'ending');
    const exit = record.pid === undefined ? undefined : readJobExit(record.dir);
    // Its wrapper killed it at the lease's end (the daemon was gone, or late): it ends as the daemon's stop would.
    if (exit?.fenced && !record.kill) {
      record.kill = 'LEASE_EXPIRED';
      await this.#save(run, 'its end at the lease');
    }
    // Its wrapper went with the daemon, and its job too, leaving no outcome: the node lost it (a reboot, say).
    if (exit === undefined && record.pid !== undefined && run.lostWithDaemon && !record.kill) {
      record.kill = 'DAEMON_LOST_WRAPPER';
      await this.#save(run, 'its run lost with the daemon');
    }
    // What the job left behind in its group (background processes) ends with it: its cores are given out next.
    // Unless its pid now names another process: then the group is someone else's (a pid still in use as a group id
    // is never handed out again, so a reused pid means the job's group is gone).
    const startTime = record.pid === undefined ? undefined : processStartTime(record.pid);
    const foreign = startTime !== undefined && startTime !== record.startTime;
    if (record.pid !== undefined && !foreign && groupAlive(record.pid)) await this.terminate(run);
    // Nothing outlives its job (as Slurm ends a step): whatever is left in its cgroups (setsid children) is killed.
    await this.#killLeftovers(run);
    // The kernel killed one of its processes for memory: the job ran out of memory, whatever its main process did.
    if (!record.kill && (this.containment(run).oomKills() ?? 0) > 0) {
      record.kill = 'OUT_OF_MEMORY';
      await this.#save(run, 'its end for memory');
    }
    // Read once every process of the run has ended: the cgroup's counts are final then.
    const usage =
      record.pid === undefined
        ? undefined
        : runUsage(
            this.containment(run).usage(),
            readWrapperUsage(record.dir),
            record.startedAt === undefined ? 0 : Date.now() - record.startedAt,
          );
    const finished = finishedEvent(record, exit, usage);
    this.#log(run).info(`job ${run.record.jobId}: ended`, {
      state: finished?.state ?? 'STOPPED',
      exit_status: finished?.exit_status ?? null,
      exit_signal: finished?.exit_signal ?? null,
      ...(record.kill && { reason: record.kill }),
    });
    if (record.launchError) {
      // No file tells this ending after a crash, and no output is to be shipped: journaled now, reported now.
      table.move(run, 'reported');
      this.#freeCores(run);
      record.outbox.push(finished!);
      await this.#save(run, 'its failed start');
      outbox.notify();
      this.#launchWaiting(record.jobId);
      return;
    }
    table.move(run, 'reporting');
    this.#freeCores(run);
    // The cores are free already; the end is reported once the output is all stored. After a crash the status file
    // tells the ending again (with the kill reason journaled before the kill).
    const report = this.#report(run, finished).finally(() => this.#reports.delete(report));
    this.#reports.add(report);
  }

  /** The API has the first `count` of the run's unsent events. */
  async acknowledged(key: string, count: number): Promise<void> {
    const run = this.options.table.get(key);
    if (!run) return;
    run.record.outbox.splice(0, count);
    // Only the end is journaled: an acknowledged start sent again after a crash is answered as a duplicate.
    if (run.phase === 'reported' && run.record.outbox.length === 0) await this.forget(run);
  }

  /** Reported and done: the run leaves the journal, and its directory goes (the job's output files stay). */
  async forget(run: Run): Promise<void> {
    // The run's record first: a crash in between leaves only offsets, which the next start drops.
    await this.options.table.forget(run);
    await this.options.shipper.forget(run.key);
    await removeRunDirectory(run.record.dir);
    // Its cgroups last until here: a daemon restarted before its end was reported still reads its OOM count.
    try {
      await this.containment(run).remove();
    } catch (error) {
      this.#log(run).error(`job ${run.record.jobId}: ${(error as Error).message}`);
    }
    this.#contained.delete(run.key);
    this.#endedUnrecorded.delete(run.key);
  }

  /** The daemon's logger with the run's job and attempt bound. */
  #log(run: Run): Logger {
    return this.options.log.child({ job_id: run.record.jobId, attempt: run.record.attempt });
  }

  /** Answers once the launches under way have their pid (or have failed). */
  async launched(): Promise<void> {
    await Promise.all(this.#launches);
  }

  /** Answers once the runs that ended by now have been reported, or after `timeoutMs` if given. */
  async reported(timeoutMs?: number): Promise<void> {
    const all = Promise.all(this.#reports);
    if (timeoutMs === undefined) return void (await all);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((done) => (timer = setTimeout(done, timeoutMs)))]);
    clearTimeout(timer);
  }

  async #killLeftovers(run: Run): Promise<void> {
    try {
      await this.containment(run).killAll();
    } catch (error) {
      this.#log(run).error(`job ${run.record.jobId}: ${(error as Error).message}`);
    }
  }

  /**
   * The attempts of a job that waited for an earlier one here: launched once none is left unended or unshipped.
   */
  #launchWaiting(jobId: number): void {
    const waiting = this.#waiting.get(jobId);
    if (!waiting) return;
    const others = this.options.table.all().filter((run) => run.record.jobId === jobId && !waiting.includes(run));
    if (others.some(holdsItsFiles)) return;
    this.#waiting.delete(jobId);
    // One settled meanwhile (cancelled while it waited) is not launched.
    this.launchAll(waiting.filter((run) => run.phase === 'admitted'));
  }

  #freeCores(run: Run): void {
    this.options.allocator.release(run.key);
    this.options.coresFreed();
  }

  async #report(run: Run, finished: FinishedEvent | undefined): Promise<void> {
    let stored: number | undefined;
    try {
      stored = await this.options.shipper.finish(run.key);
    } catch (error) {
      if (error instanceof ShipperStopped) return;
      throw error;
    }
    faultPoint('run.ended');
    if (finished) run.record.outbox.push(stored === undefined ? finished : { ...finished, output_bytes: stored });
    this.options.table.move(run, 'reported');
    // Its output is all stored: a later attempt waiting here may now open (and empty) the same files.
    this.#launchWaiting(run.record.jobId);
    if (run.record.outbox.length === 0) return this.forget(run);
    this.options.outbox.notify();
  }
}

/** Not ended, or its output not all stored yet: another attempt of its job must not open its files meanwhile. */
const holdsItsFiles = (run: Run) => !hasEnded(run.phase) || run.phase === 'reporting';

/** A run's name among the node's cgroups: `<job>.<attempt>`, the same after a restart. */
export const runName = (record: { jobId: number; attempt: number }) => `${record.jobId}.${record.attempt}`;
