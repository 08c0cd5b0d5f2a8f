/**
 * Runs one job the way docs/architecture.md (step 5 of a job's journey) says: the script as a program (its `#!` line;
 * /bin/bash without one), in a process group
 * of its own, in a session of its own, with stdout and stderr going to files, so that the job does not depend on the
 * daemon: a daemon that crashes breaks no pipe and kills nothing. A small wrapper (perl, which every Debian system has,
 * started by job-launcher.ts) is the job's parent: it writes the job's pid, waits for it, and writes its exit status
 * and terminating signal to a file, so the outcome is known even when the daemon was not there to see it. The wrapper
 * stays outside the job's process group, so killing the group (timeout, cancel) cannot keep the outcome from being
 * written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { OpenMode } from '../shared/job/open-mode.js';
import type { NodeJob } from '../shared/protocol/confirm.js';
import { JobLauncher, parseJobStart, type JobStart } from './job-launcher.js';
import { groupHasLiveProcess, processState } from './process-table.js';
import type { RunFacts } from './run-ending-rule.js';

export interface JobLaunch {
  /** The job's own directory on the node: script, pid and status files. */
  dir: string;
  script: string;
  cwd: string;
  env: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  /** sbatch's --open-mode for both files. */
  openMode: OpenMode;
  /** Cores to pin the job to with taskset, when the machine has it. */
  cpuIds?: number[];
  /** Its owner's login, or undefined to run as the daemon's own user (run-as.ts decides). */
  user: string | undefined;
  /** The lowest uid a job may take. */
  minUid: number;
  /** `cwd` is the job's default directory, made for it at launch. */
  makeCwd: boolean;
  /** cgroup.procs (or v1 tasks) files the job joins before it drops privileges. */
  cgroupProcs?: string[];
  /** The node's lease file (node-lease.ts): its wrapper kills the job at its deadline, daemon or not. */
  leaseFile?: string;
}

export interface LaunchedJob extends JobStart {
  /**
   * Settles when the job has ended and its status file is written: the daemon that launched it need not poll.
   * Rejects (LauncherGone) if the launcher went away first; the status file will still come.
   */
  ended: Promise<void>;
}

export interface JobExit {
  exitStatus: number | null;
  signal: number | null;
  /** The wrapper killed the job itself: at the node's lease's end (the daemon could not renew it). */
  fenced?: boolean;
}

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));
/** A run's own directory holds these, and only these once its wrapper is done (job-launcher.ts writes pid, status, usage). */
export const RUN_FILES = { script: 'script.sh', pid: 'pid', status: 'status', usage: 'usage' } as const;
const KILL_WAIT_MS = 10_000;

const launcher = new JobLauncher();

/** Where the jobs that name no working directory get one of their own, each made for its owner at launch. */
export const workRoot = (nodeDir: string) => join(nodeDir, 'work');

/** Where a job runs and where its output goes: its working directory (the node's own by default) and its files. */
export function outputPaths(
  job: NodeJob,
  nodeDir: string,
): { cwd: string; made: boolean; stdout: string; stderr: string; openMode: OpenMode } {
  const cwd = job.current_working_directory ?? join(workRoot(nodeDir), job.id);
  const made = job.current_working_directory === null;
  return {
    cwd,
    made,
    stdout: resolve(cwd, job.standard_output),
    stderr: resolve(cwd, job.standard_error),
    // An API from before open modes opened every job's files for appending.
    openMode: job.open_mode ?? 'append',
  };
}

export async function launchJob(launch: JobLaunch): Promise<LaunchedJob> {
  // Only the run's own directory is made here, private to the daemon; the job makes its working directory and its
  // output files' directories itself, as its owner, so they are the owner's.
  await mkdir(launch.dir, { recursive: true, mode: 0o700 });
  // Read by the job through the descriptor its wrapper opens, never by this path (the wrapper gives it to the owner).
  // Executable: the job execs /dev/fd/3, and the kernel checks the file's own mode (the directory stays root's).
  await writeFile(join(launch.dir, RUN_FILES.script), launch.script, { mode: 0o700 });
  // taskset by its absolute path, and it execs the script by its path too: never a program from the job's PATH.
  const pin = TASKSET && launch.cpuIds?.length ? [TASKSET, '-c', launch.cpuIds.join(',')] : [];
  return launcher.launch({
    dir: launch.dir,
    cwd: launch.cwd,
    makeCwd: launch.makeCwd,
    stdoutPath: launch.stdoutPath,
    stderrPath: launch.stderrPath,
    openMode: launch.openMode,
    env: launch.env,
    command: [...pin, ...scriptCommand(launch.script)],
    user: launch.user,
    minUid: launch.minUid,
    cgroupProcs: launch.cgroupProcs,
    leaseFile: launch.leaseFile,
  });
}

/**
 * How a script is run: a program, by its `#!` line (the kernel runs the interpreter it names, with its options, on
 * /dev/fd/3: the descriptor the wrapper opened); without one, by /bin/bash, as the original system ran it.
 */
export function scriptCommand(script: string): string[] {
  return script.startsWith('#!') ? ['/dev/fd/3'] : ['/bin/bash', '/dev/fd/3'];
}

/**
 * The job's pid and start time once its wrapper has said them; undefined if it has not within `timeoutMs`. Also how
 * a restarted daemon learns about a job it launched just before it died.
 */
export async function waitForLaunch(dir: string, timeoutMs: number): Promise<JobStart | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return parseJobStart(await readFile(join(dir, RUN_FILES.pid), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

/** The job's outcome, once its wrapper has written it. */
export function readJobExit(dir: string): JobExit | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, RUN_FILES.status), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [status, signal, why] = text.trim().split(' ');
  return {
    exitStatus: status === '-' ? null : Number(status),
    signal: signal === '-' ? null : Number(signal),
    ...(why === 'lease' ? { fenced: true } : {}),
  };
}

/**
 * What the machine says of a started run, for run-ending-rule.ts: its job's and its wrapper's processes (by pid and
 * start time; `wrapper` absent in a record of an older daemon), then its status file, in that order: the wrapper
 * writes the file before it exits, so a wrapper seen gone and then no file means none is coming.
 */
export function readRunFacts(run: {
  dir: string;
  pid: number;
  startTime: number;
  wrapper?: { pid: number; start: number };
}): RunFacts {
  const job = processState(run.pid, run.startTime);
  const wrapper = run.wrapper && processState(run.wrapper.pid, run.wrapper.start);
  return { job, wrapper, status: readJobExit(run.dir) };
}

/**
 * Whether any live process of the group is still there. Read from /proc rather than asked with kill(-pgid, 0): a
 * zombie that nobody reaps (a container whose init does not) answers that too, and would look alive forever.
 */
export function groupAlive(pgid: number): boolean {
  // The common case first, without reading /proc: no process at all is left in the group.
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return groupHasLiveProcess(pgid);
}

/**
 * Ends the whole process group: SIGCONT and SIGTERM, then SIGKILL to whatever is left after the grace period. Answers once no
 * process of the group is left.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  // As Slurm ends a job: SIGCONT first, so that a stopped job runs its TERM trap, then SIGTERM.
  signalGroup(pgid, 'SIGCONT');
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL cannot be caught; only a process stuck in the kernel (uninterruptible I/O) outlives it for a while.
  const killDeadline = Date.now() + KILL_WAIT_MS;
  while (groupAlive(pgid)) {
    if (Date.now() > killDeadline) throw new Error(`process group ${pgid} survived SIGKILL for ${KILL_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Removes a run's own directory once it is reported. Its files are known, so they go one by one, without the walk a
 * recursive removal makes; anything else found there (a wrapper's half-written file) falls back to that walk.
 */
export async function removeRunDirectory(dir: string): Promise<void> {
  const gone = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  };
  await Promise.all(Object.values(RUN_FILES).map((name) => unlink(join(dir, name)).catch(gone)));
  await rmdir(dir).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return;
    await rm(dir, { recursive: true, force: true });
  });
}
