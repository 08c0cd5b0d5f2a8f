/**
 * An API host and node daemons as real processes for the benches: the host under tsx, the daemons from the bundle
 * `npm run build:node` makes (as deployed), in a scratch directory of the bench's own, stopped and removed by close().
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startChildServer, type ChildServer } from '../test/helpers/child-server.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DAEMON_BUNDLE = 'dist/conductor-node.mjs';

export class BenchCluster {
  readonly scratch: string;
  readonly adminToken = randomBytes(20).toString('hex');
  readonly #children: ChildServer[] = [];

  constructor(name: string) {
    execFileSync('npm', ['run', 'build:node'], { cwd: ROOT, stdio: 'inherit' });
    this.scratch = mkdtempSync(join(tmpdir(), `conductor-bench-${name}-`));
  }

  /** The Node host; its log store is a directory in the scratch one unless `env` names another. */
  async startHost(env: Record<string, string>): Promise<ChildServer> {
    const host = await startChildServer(
      'node host',
      'api/hosts/node/main.ts',
      ROOT,
      cleanEnv({
        PORT: String(await freePort('127.0.0.1')),
        CONDUCTOR_ADMIN_TOKEN: this.adminToken,
        CONDUCTOR_LOG_DIR: join(this.scratch, 'logs'),
        ...env,
      }),
    );
    this.#children.push(host);
    return host;
  }

  async startDaemon(host: ChildServer, name: string, env: Record<string, string>): Promise<ChildServer> {
    const partitions = (env.CONDUCTOR_NODE_PARTITIONS ?? 'default').split(',');
    const token = await this.call(host, 'POST', '/v1/tokens', { name, kind: 'node', node: name, partitions });
    const daemon = await startChildServer(
      `daemon ${name}`,
      DAEMON_BUNDLE,
      ROOT,
      cleanEnv({
        CONDUCTOR_API_URL: host.url,
        CONDUCTOR_NODE_TOKEN: (token as { token: string }).token,
        CONDUCTOR_NODE_NAME: name,
        CONDUCTOR_NODE_DIR: join(this.scratch, `node-${name}`),
        CONDUCTOR_CORE_LOCK_DIR: join(this.scratch, 'cores'),
        CONDUCTOR_LOG_DIR: join(this.scratch, 'logs'),
        // The bench's jobs are an admin's naming no user: a root daemon runs them only when it allows root jobs.
        CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
        ...env,
      }),
      /claiming (?:from|through) .* at (http:\/\/\S+)/,
    );
    this.#children.push(daemon);
    return daemon;
  }

  /** A JSON call to the host, as the admin unless another token is given. */
  async call(
    host: ChildServer,
    method: string,
    path: string,
    body?: unknown,
    token = this.adminToken,
  ): Promise<unknown> {
    const response = await fetch(`${host.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((child) => child.stop()));
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** This shell's environment minus the host's and daemon's own settings. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(CONDUCTOR_\w+|DATABASE_URL|REDIS_URL|PORT|HOST)$/.test(key)),
  );
  return { ...env, ...extra };
}

export const submitBody = (script: string, cwd: string, memory = '10M') => ({
  job: { name: 'bench', current_working_directory: cwd, memory_per_node: memory, time_limit: '10' },
  script: `#!/bin/bash\n${script}`,
});

export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  pollMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
