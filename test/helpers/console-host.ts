/**
 * A real embedded instance for the console's browser tests and bench: the Node host as `npm start` runs it (bundled by
 * the tests' global setup; through tsx under the bench), in a data directory of its own holding the run's migrated
 * PGlite database, with its local node daemon running real jobs. Jobs are submitted through the API as its admin.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { bundled } from './bundled.js';
import { freePort, startChildServer, type ChildServer } from './child-server.js';
import { removeLeftCgroups } from './test-node.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface ConsoleHost {
  url: string;
  adminToken: string;
  /** An API call as the admin (or `token`); answers the parsed JSON, failing unless the status is `status`. */
  call<T = Record<string, unknown>>(
    status: number,
    method: string,
    path: string,
    options?: { body?: unknown; token?: string },
  ): Promise<T>;
  /** Makes a user token of `account` for Unix user `user`; answers its id and secret. */
  userToken(account: string, user?: string): Promise<{ id: string; token: string }>;
  /** Submits `script` as the admin; answers the job id. */
  submit(script: string, job?: Record<string, unknown>): Promise<string>;
  /**
   * Stops the host gracefully (its local node leaves its running jobs running) and starts it again on the same port
   * and data directory, where the node adopts them again: every open connection to it is cut meanwhile.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The run's migrated PGlite data directory, when under vitest; otherwise the host makes its own (slower). */
function migratedDataDir(): string | undefined {
  try {
    return inject('pgliteDataDir');
  } catch {
    return undefined;
  }
}

export async function startConsoleHost(): Promise<ConsoleHost> {
  const dataDir = mkdtempSync(join(tmpdir(), 'conductor-console-'));
  const migrated = migratedDataDir();
  if (migrated) cpSync(migrated, join(dataDir, 'pglite'), { recursive: true });
  let server: ChildServer | undefined;
  const stop = async () => {
    await server?.stop();
    await removeLeftCgroups(hostname().split('.')[0]!.slice(0, 64), join(dataDir, 'node'));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const env = { ...process.env };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'HOST', 'CONDUCTOR_ADMIN_TOKEN']) delete env[name];
    const hostEnv = {
      ...env,
      CONDUCTOR_DATA_DIR: dataDir,
      PORT: String(await freePort('127.0.0.1')),
      // Its own core records: the local nodes of other suites' hosts keep off its cores, and it off theirs.
      CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
      CONDUCTOR_KILL_GRACE_SECONDS: '1',
    };
    const start = () =>
      startChildServer('console host', bundled('hostBundle', 'api/hosts/node/main.ts'), ROOT, hostEnv);
    server = await start();
    const url = server.url;
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const call: ConsoleHost['call'] = async (status, method, path, { body, token = adminToken } = {}) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : {}) as never;
    };
    return {
      url,
      adminToken,
      call,
      async userToken(account, user = 'nobody') {
        const made = await call<{ id: string | number; token: string }>(201, 'POST', '/v1/tokens', {
          body: { name: `console-${account}-${Math.random().toString(36).slice(2, 8)}`, kind: 'user', account, user },
        });
        return { id: String(made.id), token: made.token };
      },
      async submit(script, job = {}) {
        const made = await call<{ id: string }>(201, 'POST', '/v1/jobs', {
          body: { job: { partition: 'default', time_limit: '10', ...job }, script },
        });
        return made.id;
      },
      async restart() {
        await server?.stop();
        server = undefined;
        server = await start();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
