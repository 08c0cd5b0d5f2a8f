/**
 * The Workers host run for real: `wrangler dev` serves the Worker in workerd (wrangler.toml, its R2 binding kept
 * locally), reaching the Postgres server through Neon's driver and the WebSocket proxy fixture, and Redis through
 * the Upstash client and the REST bridge fixture. Each host gets its own directory of local state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNeonWsProxy, type NeonWsProxy } from '../fixtures/neon-ws-proxy.js';
import { startUpstashRestBridge, type UpstashRestBridge } from '../fixtures/upstash-rest-bridge.js';
import { freePort, startChildServer, type ChildServer } from './child-server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
// wrangler's own entry point (its bin script only re-spawns this one with these flags): the pid signalled on stop
// is then the process that tears workerd down.
const WRANGLER_CLI = 'node_modules/wrangler/wrangler-dist/cli.js';

export interface WorkerHost {
  url: string;
  /** The fixtures the Worker reaches its services through (their counters, where a test reads them). */
  proxy: NeonWsProxy;
  bridge: UpstashRestBridge;
  /** The Worker's own log lines (wrangler dev's stdout). */
  stdout(): string[];
  stop(): Promise<void>;
}

/** What a test's Worker runs on, whichever runs it (wrangler dev here, Miniflare in miniflare-worker.ts). */
export interface WorkerOptions {
  /** postgres:// URL of the database the Worker uses (a test's own schema through `options=-c search_path=...`). */
  databaseUrl: string;
  redisUrl: string;
  /** The Worker's CONDUCTOR_REDIS_PREFIX: a test's own keys. */
  redisPrefix: string;
  adminToken: string;
  /** More of the Worker's variables (CONDUCTOR_S3_*, retention, limits, …). */
  vars?: Record<string, string>;
}

/** The Worker's variables: its services through the fixtures, the test's keys and token, and `vars`. */
export function workerVariables(
  options: WorkerOptions,
  proxy: NeonWsProxy,
  bridge: UpstashRestBridge,
): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
    CONDUCTOR_NEON_WS_PROXY: proxy.address,
    CONDUCTOR_REDIS_PREFIX: options.redisPrefix,
    CONDUCTOR_ADMIN_TOKEN: options.adminToken,
    ...options.vars,
  };
}

/**
 * `wrangler dev` serving the Worker on a free port of 127.0.0.1: its variables from `envFile` (a file, so that
 * secrets are not on a command line, and no .dev.vars of the checkout is read), its local state in `stateDir`.
 */
export async function startWranglerDev(
  name: string,
  envFile: string,
  stateDir: string,
  args: string[] = [],
): Promise<ChildServer> {
  return startChildServer(
    name,
    WRANGLER_CLI,
    ROOT,
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_OPTIONS: '--experimental-vm-modules --no-warnings',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
    },
    /Ready on (http:\/\/\S+)/,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(await freePort('127.0.0.1')),
      '--inspector-port',
      String(await freePort('127.0.0.1')),
      '--env-file',
      envFile,
      '--persist-to',
      stateDir,
      '--show-interactive-dev-session=false',
      ...args,
    ],
  );
}

export async function startWorkerHost(
  options: WorkerOptions & {
    /** More `wrangler dev` arguments, e.g. `--test-scheduled` (then `GET /__scheduled` runs the Cron handler). */
    args?: string[];
  },
): Promise<WorkerHost> {
  const database = new URL(options.databaseUrl);
  const proxy = await startNeonWsProxy({ host: database.hostname, port: Number(database.port || 5432) });
  const bridge = await startUpstashRestBridge({ redisUrl: options.redisUrl }).catch(async (error: Error) => {
    await proxy.close();
    throw error;
  });
  const dir = mkdtempSync(join(tmpdir(), 'conductor-worker-'));
  const cleanup = async () => {
    await Promise.all([proxy.close(), bridge.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(workerVariables(options, proxy, bridge))
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join('\n'),
    { mode: 0o600 },
  );
  try {
    const server = await startWranglerDev('the Worker (wrangler dev)', envFile, join(dir, 'state'), options.args);
    return {
      url: server.url,
      proxy,
      bridge,
      stdout: server.stdout,
      async stop() {
        await server.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
