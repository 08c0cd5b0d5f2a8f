/**
 * Runs a server script in its own Node process, as production does, so the load generator never shares the server's
 * single thread. A server counts as up once it prints a "listening on <url>" line on stdout.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface ChildServer {
  url: string;
  pid: number;
  /** Sends a signal, and answers at once. */
  kill(signal: NodeJS.Signals): void;
  /** Answers how the process ended, once it has. */
  exited: Promise<string>;
  /** What the server said on stdout so far: each JSON log line's message (`msg`), other lines as they are. */
  stdout(): string[];
  /** The lines the server printed on stdout so far, as printed. */
  rawStdout(): string[];
  /** The last lines the server wrote to stderr, to show what went wrong. */
  stderrTail(): string[];
  /** SIGTERM, then SIGKILL after a grace period; answers how the process ended. */
  stop(): Promise<string>;
}

// PGlite and the migrations take a few seconds on a cold start; a minute means something is stuck.
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_LINES = 20;

/** A port nothing listens on right now: the host's config wants a real port (1..65535), not 0. */
export function freePort(host: string): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? done(port) : fail(new Error('no port from the probe server'))));
    });
  });
}

/** Node's arguments to run `script`: TypeScript through tsx, JavaScript as it is. */
export const nodeArgs = (script: string) => (script.endsWith('.ts') ? ['--import', 'tsx', script] : [script]);

/** How a child server is started: as another user, with more descriptors open (startChildServer). */
export interface ChildIdentity {
  uid?: number;
  gid?: number;
  extraPipes?: number;
}

export async function startChildServer(
  name: string,
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  // What the process prints once it is ready; its first group is the answer's url.
  ready: RegExp = /listening on (http:\/\/\S+)/,
  scriptArgs: string[] = [],
  /**
   * Another user to run it as (a test running as root starts a daemon that is not); `extraPipes` more descriptors
   * (3, 4, …) it inherits open, as from a parent that left some.
   */
  identity?: ChildIdentity,
): Promise<ChildServer> {
  // The node binary itself, not npx or a shell, so the pid we signal is the server's.
  const args = [...nodeArgs(script), ...scriptArgs];
  const { extraPipes = 0, ...ids } = identity ?? {};
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...Array.from({ length: extraPipes }, () => 'pipe' as const)];
  const child = spawn(process.execPath, args, { cwd, env, stdio, ...ids });
  const exited = new Promise<string>((done) => {
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (error) => done(`spawn error: ${error.message}`));
  });
  const tail = collectTail(child);
  const stdout: string[] = [];
  const raw: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    raw.push(line);
    stdout.push(messageOf(line));
  });
  const stop = () => stopChild(child, exited);
  try {
    const url = await waitForReady(name, ready, stdout, exited, tail);
    return {
      url,
      pid: child.pid!,
      kill: (signal) => child.kill(signal),
      exited,
      stdout: () => [...stdout],
      rawStdout: () => [...raw],
      stderrTail: () => [...tail],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A JSON log line's (shared/log/) message; any other line as it is. */
function messageOf(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : line;
  } catch {
    return line;
  }
}

function collectTail(child: ChildProcess): string[] {
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
  });
  return tail;
}

/** Stdout keeps being drained into `stdout` afterwards, so a chatty server never blocks on a full pipe. */
function waitForReady(
  name: string,
  ready: RegExp,
  stdout: string[],
  exited: Promise<string>,
  tail: string[],
): Promise<string> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const poll = setInterval(() => {
      const match = stdout.map((line) => ready.exec(line)).find(Boolean);
      if (!match) return;
      clearTimeout(timer);
      clearInterval(poll);
      done(match[1]!);
    }, 20);
    void exited.then((how) => {
      clearTimeout(timer);
      clearInterval(poll);
      fail(new Error(`${name} exited before it was ready (${how}):\n${tail.join('\n')}`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
