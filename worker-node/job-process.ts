/**
 * Runs one job the way DESIGN.md section 6 asks: `bash` on the script, in a process group of its own, in a session
 * of its own, with stdout and stderr going to files, so that the job does not depend on the daemon: a daemon that
 * crashes breaks no pipe and kills nothing. A small wrapper (perl, which every Debian system has) is the job's
 * parent: it writes the job's pid, waits for it, and writes its exit status and terminating signal to a file, so the
 * outcome is known even when the daemon was not there to see it. The wrapper stays outside the job's process group,
 * so killing the group (timeout, cancel) cannot keep the outcome from being written.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface JobLaunch {
  /** The job's own directory on the node: script, pid and status files. */
  dir: string;
  script: string;
  cwd: string;
  env: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  /** Cores to pin the job to with taskset, when the machine has it. */
  cpuIds?: number[];
}

export interface LaunchedJob {
  /** The job's pid, which is also its process group id. */
  pid: number;
  /** The kernel's start time of the process, in clock ticks since boot: with the pid, it names the process. */
  startTime: number;
  /** Settles when the wrapper exits (its status file is written by then): the daemon that launched it need not poll. */
  ended: Promise<void>;
}

export interface JobExit {
  exitStatus: number | null;
  signal: number | null;
}

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));
const KILL_WAIT_MS = 10_000;
// How long the wrapper may take to fork the job and say its pid.
const LAUNCH_TIMEOUT_MS = 10_000;

// ARGV: dir, cwd, stdout, stderr, then the command. Files are written whole, then renamed: never read half-written.
const WRAPPER = `
use strict;
my ($dir, $cwd, $out, $err, @command) = @ARGV;
sub put { my ($name, $text) = @_; open(my $f, '>', "$dir/$name.tmp") or die; print $f $text; close($f); rename("$dir/$name.tmp", "$dir/$name") or die; }
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
  setpgrp(0, 0);
  chdir($cwd) or die "cannot enter $cwd: $!";
  open(STDIN, '<', '/dev/null'); open(STDOUT, '>>', $out) or die; open(STDERR, '>>', $err) or die;
  exec(@command) or die "exec: $!";
}
# The kernel's start time of the job (field 22 of its stat) names it with its pid, even after the pid is reused.
open(my $stat, '<', "/proc/$pid/stat") or die; my $line = <$stat>; close($stat);
my @fields = split(' ', substr($line, rindex($line, ')') + 2));
put('pid', "$pid $fields[19]\\n");
waitpid($pid, 0);
my $status = $?;
put('status', ($status & 127) ? "- " . ($status & 127) . "\\n" : ($status >> 8) . " -\\n");
`;

export async function launchJob(launch: JobLaunch): Promise<LaunchedJob> {
  await mkdir(launch.dir, { recursive: true });
  await mkdir(launch.cwd, { recursive: true });
  // The wrapper opens the output files: their directories must be there, or the job fails before it starts.
  await mkdir(dirname(launch.stdoutPath), { recursive: true });
  await mkdir(dirname(launch.stderrPath), { recursive: true });
  const scriptPath = join(launch.dir, 'script.sh');
  await writeFile(scriptPath, launch.script, { mode: 0o700 });
  await chmod(scriptPath, 0o700);
  const pin = TASKSET && launch.cpuIds?.length ? [TASKSET, '-c', launch.cpuIds.join(',')] : [];
  const wrapper = spawn(
    'perl',
    ['-e', WRAPPER, launch.dir, launch.cwd, launch.stdoutPath, launch.stderrPath, ...pin, 'bash', scriptPath],
    // detached: a session of its own (setsid), so the job outlives the daemon and no terminal signal reaches it.
    { detached: true, stdio: 'ignore', env: launch.env },
  );
  wrapper.unref();
  const ended = new Promise<void>((done) => wrapper.once('exit', () => done()));
  const launched = await waitForLaunch(launch.dir, LAUNCH_TIMEOUT_MS);
  if (!launched) throw new Error(`the job wrapper did not start within ${LAUNCH_TIMEOUT_MS} ms`);
  return { ...launched, ended };
}

/**
 * The job's pid and start time once its wrapper has said them; undefined if it has not within `timeoutMs`. Also how
 * a restarted daemon learns about a job it launched just before it died.
 */
export async function waitForLaunch(
  dir: string,
  timeoutMs: number,
): Promise<{ pid: number; startTime: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const [pid, startTime] = (await readFile(join(dir, 'pid'), 'utf8')).trim().split(' ').map(Number);
      return { pid: pid!, startTime: startTime! };
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
    text = readFileSync(join(dir, 'status'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [status, signal] = text.trim().split(' ');
  return { exitStatus: status === '-' ? null : Number(status), signal: signal === '-' ? null : Number(signal) };
}

/** Field 22 of /proc/<pid>/stat, or undefined when no such process is alive (a zombie is not). */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
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
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state, ppid, pgrp.
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/**
 * Ends the whole process group: SIGTERM, then SIGKILL to whatever is left after the grace period. Answers once no
 * process of the group is left.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
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
