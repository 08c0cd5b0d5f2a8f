/**
 * Starts jobs through the launcher, a small long-lived perl process (job-launcher.pl says why, what it does and its
 * protocol): one JSON line per job to its stdin; its stdout says when each job started (with its pid) and ended.
 * The wrapper it forks per job writes the job's pid and exit status to files in the run's directory, so the outcome
 * is known even when the daemon was not there to see it. On a root daemon only the job's process takes its owner's
 * identity; a job that cannot start (its owner unknown here or below the minimum uid, its files not openable) is
 * refused with the reason (LaunchRefused), and is never started as anyone else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { OpenMode } from '../shared/job/open-mode.js';
import * as perl from './perl.generated.js';

export interface LaunchRequest {
  /** The run's directory: holds script.sh, which the job reads as /dev/fd/3. */
  dir: string;
  cwd: string;
  /** Create `cwd` (as the daemon, then given to the owner): the job's default directory, in the node's own. */
  makeCwd: boolean;
  stdoutPath: string;
  stderrPath: string;
  /** sbatch's --open-mode: truncate empties the files at the start, append adds to them. */
  openMode: OpenMode;
  env: Record<string, string>;
  command: string[];
  /** The owner's login to run as; undefined keeps the daemon's own identity. */
  user: string | undefined;
  /** The lowest uid a job may take (CONDUCTOR_MIN_UID). */
  minUid: number;
  /** cgroup.procs (or v1 tasks) files the job's process joins, as root, before it drops privileges. */
  cgroupProcs?: string[];
  /** The node's lease file: the wrapper kills the job at the deadline it holds (job-launcher.pl, fence). */
  leaseFile?: string | undefined;
}

/** A process named so that a reused pid is not mistaken for it: start time in clock ticks since boot. */
export interface ProcessId {
  pid: number;
  start: number;
}

/** What the wrapper says (and writes to the run's pid file) once the job runs. */
export interface JobStart {
  pid: number;
  startTime: number;
  /** The wrapper that waits for the job and writes its status: gone before the status means the run is lost. */
  wrapper?: ProcessId;
  /**
   * The output files the job opened, as `dev:ino`: the shipper ships these and no other file. The same for both when
   * stderr shares stdout's file.
   */
  outputIds?: { stdout: string; stderr: string };
  /** Their sizes as the job opened them (after truncating): its output starts there. */
  outputBase?: { stdout: number; stderr: number };
}

/** The words of a `started` line or a pid file; a pid file of an older daemon has only the first two, or six. */
export function parseJobStart(text: string): JobStart {
  const [pid, startTime, wrapperPid, wrapperStart, stdout, stderr, stdoutBase, stderrBase] = text.trim().split(' ');
  return {
    pid: Number(pid),
    startTime: Number(startTime),
    ...(wrapperPid !== undefined ? { wrapper: { pid: Number(wrapperPid), start: Number(wrapperStart) } } : {}),
    ...(stdout !== undefined && stderr !== undefined ? { outputIds: { stdout, stderr } } : {}),
    ...(stdoutBase !== undefined && stderrBase !== undefined
      ? { outputBase: { stdout: Number(stdoutBase), stderr: Number(stderrBase) } }
      : {}),
  };
}

export class LauncherGone extends Error {}

/**
 * The wrapper's refusals that are the node's fault, not the job's (job-launcher.pl): its cgroups, its own script file,
 * a fork, a pipe or a descriptor. Every other refusal names the job's owner, directory, output or interpreter.
 */
const NODE_REFUSALS =
  /^(cannot join its cgroup|cannot record its pid|cannot open its script|cannot give the script|cannot take uid|its process ended|\/dev\/null|fork:|pipe:|dup2:|fcntl:)/;

/**
 * The job could not be started. `byNode`: for a reason of the node's (job-launcher.pl could not join its cgroups, fork,
 * read its script); otherwise of the job's (its owner, its directory, its files, its interpreter): starting it again
 * would not help.
 */
export class LaunchRefused extends Error {
  readonly byNode: boolean;
  constructor(message: string) {
    super(message);
    this.byNode = NODE_REFUSALS.test(message);
  }
}

interface Pending {
  started?: { resolve(value: JobStart): void; reject(error: Error): void };
  ended: { promise: Promise<void>; resolve(): void; reject(error: Error): void };
}

export class JobLauncher {
  #child: ChildProcess | undefined;
  readonly #pending = new Map<string, Pending>();
  /** Launches waiting for their pid: while there are any, the launcher's pipe keeps this process alive. */
  #awaitingStart = 0;

  /** Answers once the wrapper has said the job's pid; `ended` settles when the job has ended and its status is in. */
  launch(request: LaunchRequest): Promise<JobStart & { ended: Promise<void> }> {
    const child = this.#start();
    if (this.#pending.has(request.dir)) throw new Error(`${request.dir} is being launched already`);
    let endedHandlers!: Omit<Pending['ended'], 'promise'>;
    const endedPromise = new Promise<void>((resolve, reject) => {
      endedHandlers = { resolve, reject };
    });
    // Nobody may be listening when the launcher goes (the daemon polls then): that is not an unhandled failure.
    endedPromise.catch(() => {});
    const ended = { ...endedHandlers, promise: endedPromise };
    this.#holdAlive(child, +1);
    const released = () => this.#holdAlive(child, -1);
    return new Promise((resolve, reject) => {
      this.#pending.set(request.dir, {
        started: {
          resolve: (value) => {
            released();
            resolve({ ...value, ended: endedPromise });
          },
          reject: (error) => {
            released();
            reject(error);
          },
        },
        ended,
      });
      const {
        dir,
        cwd,
        makeCwd,
        stdoutPath: out,
        stderrPath: err,
        openMode: mode,
        env,
        command,
        user,
        minUid,
        cgroupProcs,
        leaseFile,
      } = request;
      const line = {
        dir,
        cwd,
        make_cwd: makeCwd,
        out,
        err,
        mode,
        env,
        command,
        user,
        min_uid: minUid,
        cgroup_procs: cgroupProcs ?? [],
        ...(leaseFile ? { lease: leaseFile } : {}),
      };
      child.stdin!.write(`${JSON.stringify(line)}\n`);
    });
  }

  #start(): ChildProcess {
    if (this.#child) return this.#child;
    // Not the daemon's environment: the wrappers it forks live as long as their jobs, and carry no token or URL.
    // A test's gates around each job's end (job-launcher.pl says what they are for) are its only other variable.
    const gates = process.env.CONDUCTOR_TEST_WRAPPER_GATES;
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(gates ? { CONDUCTOR_TEST_WRAPPER_GATES: gates } : {}),
    };
    const child = spawn('perl', ['-e', perl.jobLauncher], { stdio: ['pipe', 'pipe', 'inherit'], env });
    // The launcher must not keep its parent alive: wrappers it started live on without it.
    child.unref();
    for (const stream of [child.stdin, child.stdout]) (stream as unknown as { unref?(): void }).unref?.();
    createInterface({ input: child.stdout! }).on('line', (line) => this.#heard(line));
    const gone = (why: string) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      for (const [dir, pending] of this.#pending) {
        pending.started?.reject(new LauncherGone(`the job launcher ${why} before ${dir} started`));
        pending.ended.reject(new LauncherGone(`the job launcher ${why}`));
      }
      this.#pending.clear();
    };
    child.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    child.once('error', (error) => gone(`failed: ${error.message}`));
    child.stdin!.on('error', () => {});
    this.#child = child;
    return child;
  }

  /**
   * The launcher's pipe is unref'd so that a stopping daemon need not wait for its jobs; but a launch under way must
   * hear its pid, even at start-up, before anything else holds the event loop.
   */
  #holdAlive(child: ChildProcess, change: 1 | -1): void {
    const stdout = child.stdout as unknown as { ref?(): void; unref?(): void };
    this.#awaitingStart += change;
    if (change === 1 && this.#awaitingStart === 1) stdout.ref?.();
    if (change === -1 && this.#awaitingStart === 0) stdout.unref?.();
  }

  #heard(line: string): void {
    const space = line.indexOf(' ');
    const [what, rest] = [line.slice(0, space), line.slice(space + 1)];
    const [dir, detail] = rest.split('\t');
    const pending = this.#pending.get(dir!);
    if (!pending) return;
    if (what === 'started') {
      pending.started?.resolve(parseJobStart(detail!));
      pending.started = undefined;
    } else if (what === 'failed') {
      pending.started?.reject(new LaunchRefused(detail ?? ''));
      this.#pending.delete(dir!);
    } else if (what === 'ended') {
      pending.ended.resolve();
      this.#pending.delete(dir!);
    }
  }
}
