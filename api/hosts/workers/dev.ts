/**
 * `npm run dev:workers`: the Worker in workerd (`wrangler dev`) against a local Postgres server and Redis, one
 * command. It migrates the database (the Worker never does), puts the stand-ins for Neon's WebSocket proxy and
 * Upstash's REST endpoint in front of the two servers, starts wrangler dev with the Worker's variables, and prints the
 * URL and the admin token once the Worker is ready. wrangler dev runs no Cron trigger by itself: this runs the
 * reconciler every minute, as wrangler.toml's trigger does when deployed. Ctrl-C stops wrangler, then the stand-ins.
 *
 * Node-only development tooling, never imported by the Worker. The stand-ins are the test fixtures
 * (test/fixtures/neon-ws-proxy.ts, upstash-rest-bridge.ts): the translations the suites prove against the real
 * drivers, used as they are rather than kept twice.
 *
 * Env: DATABASE_URL (postgres://postgres@127.0.0.1:5432/conductor), REDIS_URL (redis://127.0.0.1:6379), PORT (8787),
 * CONDUCTOR_ADMIN_TOKEN (unset: a new one each start). Every other CONDUCTOR_* variable (CONDUCTOR_S3_*,
 * CONDUCTOR_REDIS_PREFIX, retention, limits) is passed to the Worker as it is; with CONDUCTOR_S3_ENDPOINT the Worker
 * runs without wrangler.toml's R2 binding, which it would read instead (the local R2 has no S3 endpoint that a daemon
 * could ship to). Arguments go to `wrangler dev` (e.g. `-- --persist-to <dir>` for its local state).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadMigrations } from '../../../shared/db/migration-files.js';
import { migrate } from '../../../shared/db/migrator.js';
import { openNodeDatabase } from '../../../shared/db/node-database.js';
import { startNeonWsProxy } from '../../../test/fixtures/neon-ws-proxy.js';
import { startUpstashRestBridge } from '../../../test/fixtures/upstash-rest-bridge.js';
import { readWranglerConfig } from './wrangler-config.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// wrangler's own entry point (its bin script only re-spawns this one): the process that tears workerd down.
const WRANGLER_CLI = join(ROOT, 'node_modules/wrangler/wrangler-dist/cli.js');

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conductor';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const port = process.env.PORT ?? '8787';
const adminToken = process.env.CONDUCTOR_ADMIN_TOKEN ?? randomBytes(24).toString('hex');
const CRON_MS = 60_000;

async function migrateDatabase(): Promise<void> {
  const database = await openNodeDatabase({ url: databaseUrl, poolSize: 1 });
  try {
    const applied = await migrate(database.migrations, await loadMigrations());
    console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: up to date');
  } finally {
    await database.close();
  }
}

/** The Worker's variables, as wrangler reads them from an .env file: secrets stay off the command line. */
function workerVariables(proxy: string, bridge: { url: string; token: string }): Record<string, string> {
  const passed = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('CONDUCTOR_') && entry[1] !== undefined,
  );
  return {
    ...Object.fromEntries(passed),
    DATABASE_URL: databaseUrl,
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
    CONDUCTOR_NEON_WS_PROXY: proxy,
    CONDUCTOR_ADMIN_TOKEN: adminToken,
  };
}

/** wrangler.toml without its R2 binding, as a config file in `dir`: everything else (name, main, Cron) as it is. */
function configWithoutR2(dir: string): string {
  const file = join(dir, 'wrangler.json');
  writeFileSync(file, JSON.stringify({ ...readWranglerConfig(ROOT), r2_buckets: [] }));
  return file;
}

async function main(): Promise<void> {
  await migrateDatabase();
  const database = new URL(databaseUrl);
  const proxy = await startNeonWsProxy({ host: database.hostname, port: Number(database.port || 5432) });
  const bridge = await startUpstashRestBridge({ redisUrl }).catch(async (error: Error) => {
    await proxy.close();
    throw error;
  });
  const dir = mkdtempSync(join(tmpdir(), 'conductor-dev-workers-'));
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(workerVariables(proxy.address, bridge))
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join('\n'),
    { mode: 0o600 },
  );
  const wrangler = spawn(
    process.execPath,
    [
      WRANGLER_CLI,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      port,
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      ...(process.env.CONDUCTOR_S3_ENDPOINT ? ['--config', configWithoutR2(dir)] : []),
      ...process.argv.slice(2),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
    },
  );
  let cron: NodeJS.Timeout | undefined;
  createInterface({ input: wrangler.stdout! }).on('line', (line) => {
    console.log(line);
    const ready = /Ready on (http:\/\/\S+)/.exec(line);
    if (!ready || cron) return;
    const output = process.env.CONDUCTOR_S3_ENDPOINT ?? 'the local R2 binding';
    console.log(
      `\nSCNS-Conductor Worker (workerd) on ${ready[1]}, database ${database.host}, Redis ${redisUrl}, output ${output}`,
    );
    console.log(`admin token: ${adminToken}\nCtrl-C stops it.\n`);
    // wrangler dev's own way to run the Cron handler once.
    cron = setInterval(() => {
      fetch(`${ready[1]}/cdn-cgi/handler/scheduled`)
        .then(async (answer) => {
          if (!answer.ok) throw new Error(`${answer.status} ${await answer.text()}`);
        })
        .catch((error: Error) => console.error(`the reconciler's run failed: ${error.message}`));
    }, CRON_MS);
  });
  // Ctrl-C reaches wrangler too (one process group); a SIGTERM to this process alone is passed on.
  const stop = (signal: NodeJS.Signals) => wrangler.kill(signal);
  process.on('SIGINT', stop).on('SIGTERM', stop);
  const exit = await new Promise<number>((done) =>
    wrangler.once('exit', (code, signal) => done(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1))),
  );
  clearInterval(cron);
  await Promise.all([proxy.close(), bridge.close()]);
  rmSync(dir, { recursive: true, force: true });
  console.log('stopped: wrangler, the WebSocket proxy and the REST bridge');
  process.exit(exit);
}

main().catch((error: Error) => {
  console.error(`dev:workers failed: ${error.message}`);
  process.exit(1);
});
