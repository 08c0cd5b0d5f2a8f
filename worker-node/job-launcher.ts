/**
 * Starts jobs through the launcher, a small long-lived perl process (job-launcher.pl says why, what it does and its
 * protocol): one JSON line per job to its stdin; its stdout says when each job started (with its pid) and ended.
 * The wrapper it forks per job writes the job's pid and exit status to files in the run's directory, so the outcome
 * is known even when the daemon was not there to see it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as perl from './perl.generated.js';

export interface LaunchRequest {
  dir: string;
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
  env: Record<string, string>;
  command: string[];
}

export class LauncherGone extends Error {}

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
