/**
 * The Worker run in workerd through Miniflare's own API rather than `wrangler dev` (worker-host.ts): the same bundle
 * wrangler deploys (`wrangler deploy --dry-run`), with the compatibility date and R2 binding wrangler.toml gives it,
 * reaching Postgres and Redis through the same fixtures. What this adds is a hand on the Worker's bindings from
 * Node: its R2 bucket, to seed with what node daemons would have shipped (the local R2 has no S3 endpoint for a
 * daemon), and its Cron handler, run on demand.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { readWranglerConfig } from '../../api/hosts/workers/wrangler-config.js';
import type { R2BucketBinding } from '../../shared/logs/r2-log-store.js';
import { startNeonWsProxy, type NeonWsProxy } from '../fixtures/neon-ws-proxy.js';
import { startUpstashRestBridge, type UpstashRestBridge } from '../fixtures/upstash-rest-bridge.js';
import { workerVariables, type WorkerOptions } from './worker-host.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

export interface MiniflareWorker {
  url: string;
  /** The Worker's `LOGS` binding, seen from Node (Miniflare's R2 API). */
  logs: R2BucketBinding;
  /** Runs the Worker's Cron handler (the reconciler) once, to its end. */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

/** The Worker bundled as `wrangler deploy` would upload it: its one module, in a directory of its own. */
async function bundleWorker(outdir: string): Promise<string> {
  await run(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    timeout: 120_000,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
  });
  return join(outdir, 'worker.js');
}

export async function startMiniflareWorker(options: WorkerOptions): Promise<MiniflareWorker> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-miniflare-'));
  const opened: { close(): Promise<void> }[] = [];
  let miniflare: Miniflare | undefined;
  const stop = async () => {
    await miniflare?.dispose();
    await Promise.all(opened.map((fixture) => fixture.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const scriptPath = await bundleWorker(join(dir, 'bundle'));
    const database = new URL(options.databaseUrl);
    const proxy: NeonWsProxy = await startNeonWsProxy({ host: database.hostname, port: Number(database.port || 5432) });
    opened.push(proxy);
    const bridge: UpstashRestBridge = await startUpstashRestBridge({ redisUrl: options.redisUrl });
    opened.push(bridge);
    const config = readWranglerConfig(ROOT);
    miniflare = new Miniflare({
      modules: true,
      scriptPath,
      // Module names are paths from here: the default, the working directory, would need `..` to reach it.
      modulesRoot: dirname(scriptPath),
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      r2Buckets: config.r2_buckets.map((bucket) => bucket.binding),
      r2Persist: join(dir, 'r2'),
      // wrangler.toml's [assets] as wrangler dev would pass them: the console's build, the Worker answering first.
      ...(config.assets
        ? {
            assets: {
              directory: config.assets.directory,
              binding: config.assets.binding,
              routerConfig: {
                has_user_worker: true,
                invoke_user_worker_ahead_of_assets: config.assets.run_worker_first === true,
              },
              assetConfig: {
                html_handling: config.assets.html_handling,
                not_found_handling: config.assets.not_found_handling,
              },
            },
          }
        : {}),
      host: '127.0.0.1',
      port: 0,
      bindings: workerVariables(options, proxy, bridge),
    });
    const url = (await miniflare.ready).toString().replace(/\/$/, '');
    const logs = (await miniflare.getR2Bucket('LOGS')) as unknown as R2BucketBinding;
    // Typed here: Miniflare's own types for it are @cloudflare/workers-types', which this project does not install.
    const worker = (await miniflare.getWorker()) as unknown as {
      scheduled(event: { cron: string }): Promise<{ outcome: string }>;
    };
    return {
      url,
      logs,
      async scheduled() {
        const result = await worker.scheduled({ cron: '* * * * *' });
        if (result.outcome !== 'ok') throw new Error(`the Cron handler ended with ${result.outcome}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
