/**
 * A Redis server of the soak's own on a private port, never the shared one on 6379. It keeps its data in an
 * append-only file, so a restart "with its data" (SIGTERM: Redis flushes the file on its way out, then a start on the
 * same directory) finds every key again; a restart "without" (SIGKILL, and the directory emptied) finds none, as a
 * Redis that lost its disk would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 30_000;

export class PrivateRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dir: string, port: number, env: NodeJS.ProcessEnv): Promise<PrivateRedis> {
    const server = new PrivateRedis(join(dir, 'redis'), port, env);
    mkdirSync(server.dataDir, { mode: 0o700 });
    await server.#start();
    return server;
  }

  /** Stops it cleanly and starts it again on the same data. */
  async restartWithData(): Promise<void> {
    await this.#stop('SIGTERM');
    await this.#start();
  }

  /** Kills it and starts it again with nothing: every queue, claim and key is gone. */
  async restartWithoutData(): Promise<void> {
    await this.#stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { mode: 0o700 });
    await this.#start();
  }

  stop(): Promise<void> {
    return this.#stop('SIGTERM');
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    this.#child?.kill(signal);
    await this.#exited;
    this.#child = undefined;
  }

  async #start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dataDir],
        ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
        ...['--logfile', join(this.dataDir, '..', 'redis.log')],
      ],
      { env: this.env, stdio: 'ignore' },
    );
    this.#child = child;
    this.#exited = new Promise((done) => {
      child.once('exit', () => done());
      child.once('error', () => done());
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await this.#pong())) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server on ${this.port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Whether it answers PING, and has loaded its data (a loading Redis answers -LOADING). */
  #pong(): Promise<boolean> {
    return new Promise((done) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port });
      socket.setTimeout(1000);
      let answer = '';
      socket.on('data', (data) => {
        answer += data.toString();
        if (answer.includes('\r\n')) {
          socket.destroy();
          done(answer.startsWith('+PONG'));
        }
      });
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('error', () => done(false));
      socket.on('timeout', () => {
        socket.destroy();
        done(false);
      });
    });
  }
}
