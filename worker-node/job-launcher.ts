/**
 * Starts job wrappers from a small, long-lived perl process rather than from the daemon itself. Forking the daemon
 * (a Node process of a hundred MB) and starting perl anew cost several ms per job; forking this launcher costs a
 * fraction of one. The daemon sends it one JSON line per job; the launcher forks a wrapper per job, in a session
 * of its own, so that the wrapper and its job outlive the launcher and the daemon alike. The wrapper forks the job
 * (its own process group, working directory, environment and output files), writes the job's pid and start time to
 * a file, waits for it, and writes its exit status and terminating signal to a file: the outcome is known even when
 * the daemon was not there to see it. Both are also told on the launcher's stdout, so the daemon need not poll.
 * Files are written whole, then renamed: never read half-written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LaunchRequest {
  dir: string;
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
  env: Record<string, string>;
  command: string[];
}

export class LauncherGone extends Error {}

const LAUNCHER = `
use strict; use JSON::PP; use POSIX ();
$| = 1;
# Wrappers are reaped by the kernel: the launcher never waits for them.
$SIG{CHLD} = 'IGNORE';
sub put { my ($dir, $name, $text) = @_; open(my $f, '>', "$dir/$name.tmp") or die; print $f $text; close($f); rename("$dir/$name.tmp", "$dir/$name") or die; }
while (my $line = <STDIN>) {
  my $r = decode_json($line);
  my $wrapper = fork();
  if (!defined $wrapper) { print "failed $r->{dir}\\tfork: $!\\n"; next; }
  next if $wrapper;
  # The wrapper: a session of its own, so no terminal signal reaches it and it outlives the launcher.
  close(STDIN); POSIX::setsid(); $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'IGNORE';
  my $pid = fork();
  if (!defined $pid) { print "failed $r->{dir}\\tfork: $!\\n"; POSIX::_exit(1); }
  if ($pid == 0) {
    setpgrp(0, 0);
    chdir($r->{cwd}) or die "cannot enter $r->{cwd}: $!";
    %ENV = %{$r->{env}};
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>>', $r->{out}) or die; open(STDERR, '>>', $r->{err}) or die;
    exec { $r->{command}[0] } @{$r->{command}} or die "exec: $!";
  }
  # The parent makes the job's process group too (as shells do): it exists before anyone hears the pid, so a kill of
  # the group right after the start cannot miss a job that has not run its own setpgrp yet.
  setpgrp($pid, $pid);
  # The kernel's start time of the job (field 22 of its stat) names it with its pid, even after the pid is reused.
  open(my $stat, '<', "/proc/$pid/stat") or die; my $text = <$stat>; close($stat);
  my @fields = split(' ', substr($text, rindex($text, ')') + 2));
  put($r->{dir}, 'pid', "$pid $fields[19]\\n");
  print "started $r->{dir}\\t$pid $fields[19]\\n";
  waitpid($pid, 0);
  my $status = $?;
  put($r->{dir}, 'status', ($status & 127) ? "- " . ($status & 127) . "\\n" : ($status >> 8) . " -\\n");
  print "ended $r->{dir}\\n";
  POSIX::_exit(0);
}
`;

interface Pending {
  started?: { resolve(value: { pid: number; startTime: number }): void; reject(error: Error): void };
  ended: { promise: Promise<void>; resolve(): void; reject(error: Error): void };
}

export class JobLauncher {
  #child: ChildProcess | undefined;
  readonly #pending = new Map<string, Pending>();
  /** Launches waiting for their pid: while there are any, the launcher's pipe keeps this process alive. */
  #awaitingStart = 0;

  /** Answers once the wrapper has said the job's pid; `ended` settles when the job has ended and its status is in. */
  launch(request: LaunchRequest): Promise<{ pid: number; startTime: number; ended: Promise<void> }> {
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
      const { dir, cwd, stdoutPath: out, stderrPath: err, env, command } = request;
      child.stdin!.write(`${JSON.stringify({ dir, cwd, out, err, env, command })}\n`);
    });
  }

  #start(): ChildProcess {
    if (this.#child) return this.#child;
    // Not the daemon's environment: the wrappers it forks live as long as their jobs, and carry no token or URL.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const child = spawn('perl', ['-e', LAUNCHER], { stdio: ['pipe', 'pipe', 'inherit'], env });
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
      const [pid, startTime] = detail!.split(' ').map(Number);
      pending.started?.resolve({ pid: pid!, startTime: startTime! });
      pending.started = undefined;
    } else if (what === 'failed') {
      pending.started?.reject(new Error(detail));
      this.#pending.delete(dir!);
    } else if (what === 'ended') {
      pending.ended.resolve();
      this.#pending.delete(dir!);
    }
  }
}
