/**
 * A Postgres server of the soak's own: a fresh cluster (`initdb`) in a private directory, on a private port, which the
 * soak restarts (`pg_ctl restart -m fast`) and crashes (SIGKILL of the postmaster, then a start that recovers from the
 * WAL). Never the shared server on 5432. Run as the `postgres` user when the soak is root (Postgres refuses root).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEBIAN_POSTGRES = '/usr/lib/postgresql';

/** SOAK_POSTGRES_BIN, or the newest Debian-packaged Postgres's programs. */
function postgresBin(): string {
  if (process.env.SOAK_POSTGRES_BIN) return process.env.SOAK_POSTGRES_BIN;
  const versions = existsSync(DEBIAN_POSTGRES) ? readdirSync(DEBIAN_POSTGRES) : [];
  const newest = versions
    .filter((version) => existsSync(join(DEBIAN_POSTGRES, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no Postgres in ${DEBIAN_POSTGRES}: set SOAK_POSTGRES_BIN to the directory of initdb`);
  return join(DEBIAN_POSTGRES, newest, 'bin');
}
// A crashed postmaster's backends notice within moments and let go of its shared memory; a start before then fails.
const START_ATTEMPTS = 30;

export class PrivatePostgres {
  private constructor(
    private readonly dataDir: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly identity: { uid: number; gid: number } | undefined,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** A new cluster in `dir/pg` (made here), started; `env` is given to every Postgres process. */
  static async start(dir: string, port: number, env: NodeJS.ProcessEnv): Promise<PrivatePostgres> {
    const identity = userInfo().uid === 0 ? postgresUser() : undefined;
    const dataDir = join(dir, 'pg');
    mkdirSync(dataDir, { mode: 0o700 });
    if (identity) chownSync(dataDir, identity.uid, identity.gid);
    const server = new PrivatePostgres(dataDir, port, env, identity);
    await server.#pg('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dataDir}'`,
        'max_connections = 200',
        'shared_buffers = 64MB',
        // A crash must lose nothing that was committed: the defaults, said out loud.
        'fsync = on',
        'synchronous_commit = on',
        '',
      ].join('\n'),
    );
    await server.#start();
    return server;
  }

  /** `pg_ctl restart -m fast`: sessions are ended, the server comes back at once. */
  async restart(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.dataDir, '-l', this.#log, '-w', '-t', '60', '-m', 'fast', 'restart']);
  }

  /** SIGKILL of the postmaster, then a start (crash recovery). */
  async crash(): Promise<void> {
    const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await this.#start();
  }

  async stop(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', '-m', 'fast', 'stop']).catch(() => {});
  }

  get #log(): string {
    return join(this.dataDir, 'server.log');
  }

  async #start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#pg('pg_ctl', ['-D', this.dataDir, '-l', this.#log, '-w', '-t', '60', 'start']);
        return;
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async #pg(program: string, args: string[]): Promise<void> {
    await run(join(postgresBin(), program), args, { env: this.env, cwd: this.dataDir, ...this.identity });
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('the soak runs as root and needs a postgres user to run its Postgres as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
