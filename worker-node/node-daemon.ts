/**
 * The node daemon (DESIGN.md section 6): heartbeats, claims what fits its free cores and memory, confirms through
 * the API, runs what was confirmed, enforces time and memory limits and cancels, and reports every start and end
 * through a durable outbox. Everything it must not forget is in its journal first, or in the files a run's wrapper
 * writes before the daemon hears of them (the pid, then the exit status): the journal holds each run from its confirm
 * to its acknowledged end, with the reason for any kill, and a run's start and end events are made again from its
 * files after a crash. So after its own crash it re-adopts the runs still alive, settles the ones that ended
 * meanwhile, and runs none twice.
 */
import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LOG_STREAMS, type LogStore } from '../shared/logs/log-store.js';
import { ClaimPacer } from '../shared/queue/claim-pacer.js';
import { CONDUCTOR_VERSION } from '../shared/version.js';
import { DEFAULT_CLAIM_MAX } from '../shared/queue/job-queue.js';
import type { ClaimSource } from './claim-source.js';
import { CoreAllocator } from './core-allocator.js';
import { lockCores, type CoreLease } from './core-locks.js';
import { jobEnding, type KillReason } from './job-ending.js';
import { jobEnvironment } from './job-environment.js';
import {
  groupAlive,
  launchJob,
  readJobExit,
  removeRunDirectory,
  RUN_FILES,
  terminateGroup,
  waitForLaunch,
} from './job-process.js';
import { Journal } from './journal.js';
import { LogShipper, ShipperStopped, type OutputFile } from './log-shipper.js';
import type { NodeJob } from '../shared/protocol/confirm.js';
import type { FinishedEvent } from '../shared/protocol/events.js';
import { ApiRefused, ProtocolMismatch, type NodeApi } from './node-api.js';
import { Outbox } from './outbox.js';
import { processStartTime, residentBytesByGroup } from './process-table.js';
import { runKey, type RunRecord } from './run-record.js';

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
  claimIdleMaxMs: number;
  /** Where jobs' output goes, how long new output may wait, and the largest piece shipped at once. */
  logs: { store: LogStore; flushMs: number; chunkBytes: number };
  api: NodeApi;
  source: ClaimSource;
  log(line: string): void;
}

interface Run {
  record: RunRecord;
  /** Re-adopted after a restart: not the daemon's child, so its end is noticed by polling its status file. */
  adopted: boolean;
  settling?: Promise<void>;
  forgotten?: boolean;
  /** When an adopted run's process was first seen gone without a status file. */
  goneSince?: number;
  /** Its end is in the outbox (its output all stored first), or needs no report: acknowledged, it is done. */
  reported?: boolean;
}

const TICK_MS = 200;
// The wrapper writes the status file right after its job ends: a run gone this long without one lost its wrapper.
const GONE_WITHOUT_STATUS_MS = 2000;
// How long a restarted daemon waits for the wrapper of a run it launched just before it died to say its pid.
const LAUNCH_GRACE_MS = 2000;
const CONFIRM_RETRY_MAX_MS = 2000;
// How long a stopping daemon waits for the output of runs that just ended to be stored.
const STOP_REPORT_WAIT_MS = 5000;
// The API's default silence limit is 60 s: an idle node still beats several times within it.
const IDLE_HEARTBEAT_MAX_MS = 10_000;

export class NodeDaemon {
  readonly #runs = new Map<string, Run>();
  readonly #journal: Journal<RunRecord>;
  readonly #confirming: Journal<number[]>;
  readonly #outbox: Outbox;
  readonly #shipper: LogShipper;
  readonly #pacer: ClaimPacer;
  #allocator: CoreAllocator | undefined;
  #lease: CoreLease | undefined;
  #state: 'UP' | 'DOWN' | 'DRAINING' | undefined;
  #stopping = false;
  #loops: Promise<void>[] = [];
  readonly #starting = new Set<Promise<void>>();
  readonly #reporting = new Set<Promise<void>>();
  #tick: NodeJS.Timeout | undefined;
  #lastMemoryPoll = 0;
  #heartbeatFailing = false;
  /** The API speaks a protocol this daemon cannot: said once, until it speaks one it can again. */
  #mismatched = false;
  #wakeHeartbeat: (() => void) | undefined;
  #heartbeatIdle = false;

  constructor(private readonly options: NodeDaemonOptions) {
    this.#journal = new Journal(join(options.dir, 'journal'));
    this.#confirming = new Journal(join(options.dir, 'confirming'));
    this.#shipper = new LogShipper({ ...options.logs, dir: join(options.dir, 'shipped'), log: options.log });
    this.#pacer = new ClaimPacer({ minMs: 100, maxMs: options.claimIdleMaxMs, factor: 2, jitter: 0.1 });
    this.#outbox = new Outbox({
      pending: () => [...this.#runs.entries()].map(([key, run]) => ({ key, events: run.record.outbox })),
      send: (events) => options.api.events(events),
      acknowledged: (key, count) => this.#acknowledged(key, count),
      log: options.log,
    });
  }

  async start(): Promise<void> {
    const records = await this.#journal.readAll();
    const live = records.filter((record) => !record.ended);
    this.#lease = await lockCores({
      dir: this.options.coreLockDir,
      machineCores: this.options.machineCores,
      count: this.options.cpus,
      required: [...new Set(live.flatMap((record) => record.cpuIds))],
      node: this.options.node,
      journalDir: this.#journal.dir,
      journalHasLiveJobs,
    });
    // CPUs are the allocator's unit: one per core, or `oversubscribe` per core, numbered core by core in turns.
    const slots = this.#lease.cores.length * this.options.oversubscribe;
    this.#allocator = new CoreAllocator(Array.from({ length: slots }, (_, slot) => slot));
    await this.#shipper.start();
    for (const record of records) this.#runs.set(runKey(record), { record, adopted: true });
    // Runs that ended while the daemon was away are settled before any cores are reserved: a run's cores may have
    // gone to a later run before the crash, while its end was known only from its status file.
    for (const run of [...this.#runs.values()]) await this.#resume(run);
    await this.#shipper.dropUntracked();
    for (const { record } of this.#runs.values())
      if (!record.ended) this.#allocator.reserve(runKey(record), record.slots);
    this.#outbox.start();
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    this.#loops = [this.#heartbeatLoop()];
    // Work confirmed before a crash whose answer never reached the journal: confirm it again (the API answers a
    // retry with the same jobs), then start claiming.
    const [unanswered] = await this.#confirming.readAll();
    this.#loops.push(
      (unanswered ? this.#confirm(unanswered.filter((id) => !this.#hasRunOf(id))) : Promise.resolve()).then(() =>
        this.#claimLoop(),
      ),
    );
    this.options.log(
      `node ${this.options.node} started: cores ${this.#lease.cores.join(',')} (${slots} CPUs), ` +
        `${this.options.memoryMb} MB, ` +
        `partitions ${this.options.partitions.join(',')}, ${live.length} run(s) from the journal`,
    );
  }

  /** New work may be in the queue for one of our partitions. */
  wake(): void {
    this.#pacer.notify();
  }

  /**
   * Stops claiming and leaves running jobs running (a restarted daemon re-adopts them); sends what the outbox holds.
   * The cores stay this node's while any of its jobs runs.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#pacer.notify();
    this.#wakeHeartbeat?.();
    await Promise.all(this.#loops);
    await Promise.all(this.#starting);
    clearInterval(this.#tick);
    // Runs that just ended get a moment to store their output and be reported; the rest are after the next start.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.#reporting),
      new Promise((done) => (timer = setTimeout(done, STOP_REPORT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    await this.#shipper.stop();
    await Promise.all(this.#reporting);
    await this.#outbox.close();
    await this.#outbox.flush();
    await this.options.source.close();
    const running = [...this.#runs.values()].filter((run) => !run.record.ended).length;
    if (running === 0) await this.#lease?.release();
    this.options.log(`node ${this.options.node} stopped; ${running} job(s) left running`);
  }

  #hasRunOf(jobId: number): boolean {
    return [...this.#runs.values()].some((run) => run.record.jobId === jobId);
  }

  async #heartbeatLoop(): Promise<void> {
    while (!this.#stopping) {
      await this.#heartbeat();
      const delayMs = this.#heartbeatDelayMs();
      this.#heartbeatIdle = delayMs > this.options.heartbeatMs;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, delayMs);
        this.#wakeHeartbeat = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  }

  /**
   * A cancel needs the heartbeat only while jobs run here: an idle node beats less often (each beat costs it and
   * the API a request), still well within the API's silence limit.
   */
  #heartbeatDelayMs(): number {
    const busy = [...this.#runs.values()].some((run) => !run.record.ended);
    return busy ? this.options.heartbeatMs : Math.min(IDLE_HEARTBEAT_MAX_MS, this.options.heartbeatMs * 10);
  }

  async #heartbeat(): Promise<void> {
    const running = [...this.#runs.values()]
      .filter((run) => !run.record.ended)
      .map(({ record }) => ({ job_id: String(record.jobId), attempt: record.attempt }));
    try {
      const answer = await this.options.api.heartbeat({
        partitions: this.options.partitions,
        cpus: this.#allocator!.cores,
        memory_mb: this.options.memoryMb,
        running,
        daemon_version: CONDUCTOR_VERSION,
      });
      if (this.#heartbeatFailing) this.options.log('heartbeat answered again');
      this.#heartbeatFailing = false;
      this.#mismatched = false;
      if (answer.state !== this.#state) {
        this.options.log(`node ${this.options.node} is ${answer.state}`);
        this.#state = answer.state;
        this.#pacer.notify();
      }
      for (const { job_id, attempt } of answer.cancel) this.#kill(`${job_id}-${attempt}`, 'CANCELLED');
      for (const { job_id, attempt } of answer.stop) this.#kill(`${job_id}-${attempt}`, 'STOPPED');
    } catch (error) {
      if (!this.#heartbeatFailing) this.options.log(`heartbeat failed: ${(error as Error).message}`);
      this.#heartbeatFailing = true;
      if (error instanceof ProtocolMismatch) this.#mismatch(error);
    }
  }

  /**
   * Nothing this daemon sends can be right: it claims nothing (a claim the API ran would be stranded there; its runs
   * go on) until a heartbeat is answered again.
   */
  #mismatch(error: ProtocolMismatch): void {
    if (!this.#mismatched) this.options.log(`node ${this.options.node} stops claiming: ${error.message}`);
    this.#mismatched = true;
    this.#state = undefined;
  }

  async #claimLoop(): Promise<void> {
    while (!this.#stopping) {
      await this.#pacer.wait();
      if (this.#stopping) break;
      const free = this.#free();
      if (this.#state !== 'UP' || free.cpus === 0 || free.memoryMb <= 0) {
        this.#pacer.record(false);
        continue;
      }
      let ids: number[];
      try {
        ids = await this.options.source.claim(
          {
            node: this.options.node,
            partitions: this.options.partitions,
            cpus: this.#allocator!.cores,
            memoryMb: this.options.memoryMb,
            freeCpus: free.cpus,
            freeMemoryMb: free.memoryMb,
          },
          DEFAULT_CLAIM_MAX,
        );
      } catch (error) {
        this.options.log(`claim failed: ${(error as Error).message}`);
        if (error instanceof ProtocolMismatch) this.#mismatch(error);
        this.#pacer.record(false);
        continue;
      }
      this.#pacer.record(ids.length > 0);
      if (ids.length) await this.#confirm(ids);
    }
  }

  #free(): { cpus: number; memoryMb: number } {
    let memoryMb = this.options.memoryMb;
    for (const run of this.#runs.values()) if (!run.record.ended) memoryMb -= run.record.job.memory_mb;
    return { cpus: this.#allocator!.free, memoryMb };
  }

  /**
   * Confirms claimed refs and starts what the API says to run. The ids are journaled first: if the daemon dies
   * before the answer is, the restarted daemon asks again and gets the same jobs. They are not removed once answered
   * (that would cost a synced write between every claim and its start): the next claim's ids replace them, and ids
   * asked about again after a restart whose runs are journaled, or long done, change nothing.
   */
  async #confirm(ids: number[]): Promise<void> {
    if (ids.length === 0) return this.#confirming.remove('confirming');
    await this.#confirming.write('confirming', ids);
    let admitted: (Run | undefined)[] = [];
    let retryMs = 100;
    for (;;) {
      try {
        const { jobs } = await this.options.api.confirm(ids);
        admitted = await Promise.all(jobs.map((job) => this.#admit(job)));
        break;
      } catch (error) {
        if (error instanceof ApiRefused) {
          // Nothing started: the refs stay claimed until the API's reconciler puts them back.
          this.options.log(`confirm refused: ${error.message}`);
          break;
        }
        this.options.log(`confirm failed, retrying: ${(error as Error).message}`);
        // Stopping with the answer unknown: the journal keeps the ids, and the next start asks again.
        if (this.#stopping) return;
        await new Promise((done) => setTimeout(done, retryMs));
        retryMs = Math.min(CONFIRM_RETRY_MAX_MS, retryMs * 2);
      }
    }
    this.#startAll(admitted);
  }

  /** Takes a confirmed job in: its cores, and its record in the journal. Answers the run to start, if any. */
  async #admit(job: NodeJob): Promise<Run | undefined> {
    const jobId = Number(job.id);
    const key = runKey({ jobId, attempt: job.attempt });
    if (this.#runs.has(key)) return undefined;
    const allocator = this.#allocator!;
    // An exclusive job has the whole node: every core is its own.
    const slots = allocator.allocate(key, job.exclusive ? allocator.cores : job.cpus);
    const paths = outputPaths(job, this.options.dir);
    const record: RunRecord = {
      job,
      jobId,
      attempt: job.attempt,
      dir: join(this.options.dir, 'runs', key),
      slots: slots ?? [],
      cpuIds: this.#coresOf(slots ?? []),
      outputBase: { stdout: await fileSize(paths.stdout), stderr: await fileSize(paths.stderr) },
      outbox: [],
    };
    const run: Run = { record, adopted: false };
    this.#runs.set(key, run);
    if (!slots) {
      record.launchError = `not enough free cores on ${this.options.node} (${allocator.free} free)`;
      await this.#settle(run);
      return undefined;
    }
    await this.#save(run);
    // Busy now: the next heartbeat (which carries cancels) must not wait out an idle pause.
    if (this.#heartbeatIdle) this.#wakeHeartbeat?.();
    return run;
  }

  /** Starts admitted runs without holding up the next claim; stop() waits for them. */
  #startAll(runs: (Run | undefined)[]): void {
    for (const run of runs) {
      if (!run) continue;
      const starting = this.#start(run).finally(() => this.#starting.delete(starting));
      this.#starting.add(starting);
    }
  }

  async #start(run: Run): Promise<void> {
    const { record } = run;
    const { job } = record;
    const paths = outputPaths(job, this.options.dir);
    try {
      const launched = await launchJob({
        dir: record.dir,
        script: job.script,
        cwd: paths.cwd,
        env: jobEnvironment(
          {
            id: job.id,
            name: job.name,
            attempt: job.attempt,
            partition: job.partition,
            account: job.account,
            ntasksPerNode: job.ntasks_per_node,
            cpusPerTask: job.cpus_per_task,
            memoryMb: job.memory_mb,
            environment: job.environment,
            workDir: paths.cwd,
          },
          this.options.node,
          record.cpuIds,
        ),
        stdoutPath: paths.stdout,
        stderrPath: paths.stderr,
        cpuIds: record.cpuIds,
      });
      // Not journaled again: after a crash the pid file tells the pid, and the started event is made anew.
      this.#started(run, launched.pid, launched.startTime, Date.now());
      this.#outbox.notify();
      this.#ship(run);
      // If the launcher goes first, the status file still comes: watch for it as for a re-adopted run.
      launched.ended.then(
        () => this.#settle(run),
        () => (run.adopted = true),
      );
    } catch (error) {
      record.launchError = `cannot start: ${(error as Error).message}`;
      await this.#settle(run);
    }
  }

  /** The machine cores under these CPU slots. */
  #coresOf(slots: number[]): number[] {
    const cores = this.#lease!.cores;
    return [...new Set(slots.map((slot) => cores[slot % cores.length]!))].sort((a, b) => a - b);
  }

  #started(run: Run, pid: number, startTime: number, startedAt: number): void {
    const { record } = run;
    Object.assign(record, { pid, startTime, startedAt });
    record.outbox.push({
      kind: 'started',
      job_id: String(record.jobId),
      attempt: record.attempt,
      pid,
      cpu_ids: record.cpuIds,
    });
  }

  /** A run found in the journal at start-up: re-adopt it, settle it, or start it if it never started. */
  async #resume(run: Run): Promise<void> {
    const { record } = run;
    // Journaled as ended: a run that never started, its end in its outbox.
    if (record.ended) {
      run.reported = true;
      if (record.outbox.length === 0) await this.#forget(run);
      return;
    }
    if (record.pid === undefined) {
      const scriptWritten = existsSync(join(record.dir, RUN_FILES.script));
      const launched = await waitForLaunch(record.dir, scriptWritten ? LAUNCH_GRACE_MS : 0);
      if (!launched) {
        run.adopted = false;
        this.options.log(`job ${record.jobId}: confirmed but never started before the restart; starting it now`);
        return this.#start(run);
      }
      this.#started(run, launched.pid, launched.startTime, statSync(join(record.dir, RUN_FILES.pid)).mtimeMs);
      await this.#save(run);
    }
    this.#ship(run);
    if (processStartTime(record.pid!) === record.startTime) {
      this.options.log(`job ${record.jobId}: re-adopted (pid ${record.pid})`);
      // A kill interrupted by the crash goes on.
      if (record.kill) void this.#terminate(run);
      return;
    }
    // Ended while the daemon was away (or its pid now names another process, which is left alone).
    this.options.log(`job ${record.jobId}: ended while the daemon was away`);
    await this.#settle(run);
  }

  #onTick(): void {
    const now = Date.now();
    const live = [...this.#runs.values()].filter((run) => !run.record.ended && run.record.pid !== undefined);
    for (const run of live) {
      const { record } = run;
      if (run.adopted && !run.settling) this.#checkAdopted(run, now);
      const limit = record.job.time_limit_seconds;
      if (limit !== null && now >= record.startedAt! + limit * 1000) this.#kill(runKey(record), 'TIMEOUT');
    }
    if (live.length && now - this.#lastMemoryPoll >= this.options.memoryPollMs) {
      this.#lastMemoryPoll = now;
      const resident = residentBytesByGroup(new Set(live.map((run) => run.record.pid!)));
      for (const run of live) {
        if ((resident.get(run.record.pid!) ?? 0) > run.record.job.memory_mb * 2 ** 20) {
          this.#kill(runKey(run.record), 'OUT_OF_MEMORY');
        }
      }
    }
  }

  #checkAdopted(run: Run, now: number): void {
    const { record } = run;
    if (readJobExit(record.dir)) return void this.#settle(run);
    if (processStartTime(record.pid!) === record.startTime) return;
    run.goneSince ??= now;
    if (now - run.goneSince >= GONE_WITHOUT_STATUS_MS) void this.#settle(run);
  }

  /** Ends a run for a reason of the daemon's: the reason is journaled before the first signal. */
  #kill(key: string, reason: KillReason): void {
    const run = this.#runs.get(key);
    if (!run || run.record.kill || run.record.ended || run.record.pid === undefined) return;
    run.record.kill = reason;
    this.options.log(`job ${run.record.jobId}: ending it (${reason})`);
    void this.#save(run).then(() => this.#terminate(run));
  }

  async #terminate(run: Run): Promise<void> {
    try {
      await terminateGroup(run.record.pid!, this.options.killGraceMs);
    } catch (error) {
      // Its cores are given out again all the same: a process that SIGKILL cannot end does not run.
      this.options.log(`job ${run.record.jobId}: ${(error as Error).message}`);
    }
  }

  /** The run's process has ended (or never started): its outcome goes to the outbox, its cores are free. */
  #settle(run: Run): Promise<void> {
    run.settling ??= (async () => {
      const { record } = run;
      const exit = record.pid === undefined ? undefined : readJobExit(record.dir);
      // What the job left behind in its group (background processes) ends with it: its cores are given out next.
      // Unless its pid now names another process: then the group is someone else's (a pid still in use as a
      // group id is never handed out again, so a reused pid means the job's group is gone).
      const startTime = record.pid === undefined ? undefined : processStartTime(record.pid);
      const foreign = startTime !== undefined && startTime !== record.startTime;
      if (record.pid !== undefined && !foreign && groupAlive(record.pid)) await this.#terminate(run);
      record.ended = true;
      const ending = record.launchError
        ? { state: 'FAILED' as const, exit_status: null, exit_signal: null, error_msg: record.launchError }
        : jobEnding(exit, record.kill, {
            timeLimitSeconds: record.job.time_limit_seconds,
            memoryMb: record.job.memory_mb,
          });
      // A run the API asked to stop has been ended there already: it is not reported.
      const finished: FinishedEvent | undefined =
        record.kill === 'STOPPED'
          ? undefined
          : { kind: 'finished', job_id: String(record.jobId), attempt: record.attempt, ...ending };
      this.#allocator!.release(runKey(record));
      this.#pacer.notify();
      if (record.launchError) {
        // No file tells this ending after a crash, and no output is to be shipped: journaled now, reported now.
        record.outbox.push(finished!);
        run.reported = true;
        await this.#save(run);
        this.#outbox.notify();
        return;
      }
      // The cores are free already; the end is reported once the output is all stored. After a crash the status
      // file tells the ending again (with the kill reason journaled before the kill).
      const reporting = this.#report(run, finished).finally(() => this.#reporting.delete(reporting));
      this.#reporting.add(reporting);
    })();
    return run.settling;
  }

  async #report(run: Run, finished: FinishedEvent | undefined): Promise<void> {
    const key = runKey(run.record);
    try {
      await this.#shipper.finish(key);
    } catch (error) {
      if (error instanceof ShipperStopped) return;
      throw error;
    }
    if (finished) run.record.outbox.push(finished);
    run.reported = true;
    if (run.record.outbox.length === 0) return this.#forget(run);
    this.#outbox.notify();
  }

  /** Ships the run's output files from now on. */
  #ship(run: Run): void {
    const { record } = run;
    const paths = outputPaths(record.job, this.options.dir);
    const files: OutputFile[] = LOG_STREAMS.map((stream) => ({
      stream,
      path: paths[stream],
      // Journaled by a daemon from before output shipping: its files are shipped whole.
      base: record.outputBase?.[stream] ?? 0,
    }));
    this.#shipper.track(runKey(record), record, files);
  }

  async #acknowledged(key: string, count: number): Promise<void> {
    const run = this.#runs.get(key);
    if (!run) return;
    run.record.outbox.splice(0, count);
    // Only the end is journaled: an acknowledged start sent again after a crash is answered as a duplicate.
    if (run.reported && run.record.outbox.length === 0) await this.#forget(run);
  }

  async #save(run: Run): Promise<void> {
    if (!run.forgotten) await this.#journal.write(runKey(run.record), run.record);
  }

  /** Reported and done: the run leaves the journal, and its directory goes (the job's output files stay). */
  async #forget(run: Run): Promise<void> {
    run.forgotten = true;
    const key = runKey(run.record);
    this.#runs.delete(key);
    // The run's record first: a crash in between leaves only offsets, which the next start drops.
    await this.#journal.remove(key);
    await this.#shipper.forget(key);
    await removeRunDirectory(run.record.dir);
  }
}

/** Whether any run recorded in a daemon's journal directory still has its process: its cores are still in use. */
async function journalHasLiveJobs(journalDir: string): Promise<boolean> {
  const records = await new Journal<RunRecord>(journalDir).readAll().catch(() => []);
  for (const record of records) {
    if (record.ended) continue;
    // The journal names the process once it was killed or recovered; else the run's pid file does.
    const named =
      record.pid !== undefined ? { pid: record.pid, startTime: record.startTime } : await waitForLaunch(record.dir, 0);
    if (named && processStartTime(named.pid) === named.startTime) return true;
  }
  return false;
}

/** Where a job runs and where its output goes: its working directory (the node's own by default) and its files. */
function outputPaths(job: NodeJob, nodeDir: string): { cwd: string; stdout: string; stderr: string } {
  const cwd = job.current_working_directory ?? join(nodeDir, 'work', job.id);
  return { cwd, stdout: resolve(cwd, job.standard_output), stderr: resolve(cwd, job.standard_error) };
}

/** Taken at admission, where a slow filesystem only delays the run's own start. */
async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (stats) => stats.size,
    () => 0,
  );
}
