/**
 * The Workers host bundles for Cloudflare Workers (wrangler's dry run, no nodejs_compat) and pulls in nothing
 * Node-only: no PGlite, no pg, no Node built-ins, no @hono/node-server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

// Strings each of these leaves in a bundle that contains it.
const NODE_ONLY_MARKERS = [
  'node_modules/@electric-sql/pglite/', // its source paths in esbuild's module comments
  'pglite.wasm',
  'node_modules/pg/', // pg's source paths in esbuild's module comments
  'node_modules/pg-pool/',
  'node:fs',
  'node:child_process',
  'node_modules/@hono/node-server/',
  'node_modules/ioredis/', // the TCP Redis client: the Worker queues over Upstash's REST client
  'node_modules/prom-client/', // the Node host's metrics: the Worker serves the database's gauges without it
  'node_modules/pino/', // the Node processes' logger: the Worker writes JSON lines through console.log
  'node_modules/pino-pretty/',
];

describe('the Workers bundle', () => {
  it('builds with wrangler and holds nothing Node-only', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'conductor-worker-bundle-'));
    try {
      await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
        cwd: root,
        timeout: 120_000,
        env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
      });
      const scripts = (await readdir(outdir)).filter((name) => name.endsWith('.js'));
      expect(scripts).toEqual(['worker.js']);
      const bundle = await readFile(join(outdir, 'worker.js'), 'utf8');
      expect(bundle).toContain('SCNS-Conductor API');
      // Its /metrics: the database's gauges, written without a metrics library.
      expect(bundle).toContain('conductor_queue_depth');
      expect(NODE_ONLY_MARKERS.filter((marker) => bundle.includes(marker))).toEqual([]);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 180_000);
});
