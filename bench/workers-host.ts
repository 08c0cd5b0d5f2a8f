/**
 * `npm run bench:workers`: the Workers host measured next to the Node host. First the Worker's bundle as
 * `wrangler deploy` would upload it (raw and gzip, node:zlib at its default level). Then submit latency through each
 * host on the same Postgres server and Redis: the Worker in workerd (`wrangler dev`, reaching them through the Neon
 * WebSocket proxy and Upstash REST bridge fixtures, test/helpers/worker-host.ts) and the Node host in its own process
 * (api/hosts/node/main.ts). Same load on each: a warm-up, then submits one after another, then the same number
 * from a few concurrent clients. Each host gets its own schema and Redis prefix, removed afterwards.
 *
 * Env: DATABASE_URL, REDIS_URL (default the local servers), BENCH_SUBMITS (500), BENCH_WARMUP (50),
 * BENCH_CONCURRENCY (8). Prints a table with the ratio Worker/Node; exits 1 if a submit is not a 201.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { freePort, startChildServer } from '../test/helpers/child-server.js';
import { POSTGRES_URL, withServerSchema } from '../test/helpers/test-databases.js';
import { deleteKeys, REDIS_URL } from '../test/helpers/test-redis.js';
import { startWorkerHost } from '../test/helpers/worker-host.js';

const SUBMITS = positiveInt('BENCH_SUBMITS', 500);
const WARMUP = positiveInt('BENCH_WARMUP', 50);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 8);
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_TOKEN = randomBytes(24).toString('hex');
const run = promisify(execFile);

const SUBMIT_BODY = JSON.stringify({
  job: { account: 'bench', name: 'load', partition: 'default', cpus_per_task: 1, memory_per_node: '1G' },
  script: '#!/bin/bash\ntrue',
});

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

// ---- the bundle -------------------------------------------------------------------------------------------------

async function bundleSizes(): Promise<{ raw: number; gzip: number }> {
  const outdir = await mkdtemp(join(tmpdir(), 'conductor-bench-bundle-'));
  try {
    await run(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
    });
    const bundle = await readFile(join(outdir, 'worker.js'));
    return { raw: bundle.length, gzip: gzipSync(bundle).length };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

// ---- load -------------------------------------------------------------------------------------------------------

/** Latencies of one run, in ms. */
interface Latency {
  p50: number;
  p99: number;
  perSecond: number;
}

interface HostResult {
  name: string;
  sequential: Latency;
  concurrent: Latency;
  failures: string[];
}

/** `count` submits from `clients` clients, each sending its next once its last is answered. */
async function submits(url: string, count: number, clients: number, failures: string[]): Promise<Latency> {
  const histogram = createHistogram();
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < count) {
      next += 1;
      const sent = performance.now();
      const answer = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: SUBMIT_BODY,
      });
      const text = await answer.text();
      // In microseconds: the histogram keeps whole numbers.
      histogram.record(Math.max(1, Math.round((performance.now() - sent) * 1000)));
      if (answer.status !== 201) failures.push(`${answer.status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  return { p50: histogram.percentile(50) / 1000, p99: histogram.percentile(99) / 1000, perSecond: count / seconds };
}

async function measure(name: string, url: string): Promise<HostResult> {
  const failures: string[] = [];
  await submits(url, WARMUP, 1, failures);
  const sequential = await submits(url, SUBMITS, 1, failures);
  const concurrent = await submits(url, SUBMITS, CONCURRENCY, failures);
  return { name, sequential, concurrent, failures };
}

// ---- the hosts --------------------------------------------------------------------------------------------------

function benchWorker(): Promise<HostResult> {
  return withServerSchema('bench_worker', async (schema, url) => {
    const redisPrefix = `bench:${schema}:`;
    // The Worker does not migrate (npm run migrate does, before a deploy).
    const database = await openNodeDatabase({ url, poolSize: 1 });
    try {
      await migrate(database.migrations, await loadMigrations());
    } finally {
      await database.close();
    }
    const worker = await startWorkerHost({
      // Spaces as %20: Neon's driver does not read the `+` that URLSearchParams writes for one.
      databaseUrl: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      redisUrl: REDIS_URL,
      redisPrefix,
      adminToken: ADMIN_TOKEN,
    });
    try {
      return await measure('Worker (workerd)', worker.url);
    } finally {
      await worker.stop();
      await deleteKeys(redisPrefix);
    }
  });
}

function benchNode(): Promise<HostResult> {
  return withServerSchema('bench_node', async (schema, url) => {
    const redisPrefix = `bench:${schema}:`;
    const dataDir = await mkdtemp(join(tmpdir(), 'conductor-bench-node-'));
    const server = await startChildServer('the Node host', 'api/hosts/node/main.ts', ROOT, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST,
      PORT: String(await freePort(HOST)),
      DATABASE_URL: url,
      REDIS_URL,
      CONDUCTOR_REDIS_PREFIX: redisPrefix,
      CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
      CONDUCTOR_DATA_DIR: dataDir,
    });
    try {
      return await measure('Node host', server.url);
    } finally {
      await server.stop();
      await deleteKeys(redisPrefix);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

// ---- output -----------------------------------------------------------------------------------------------------

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(`${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(format(row));
}

async function main(): Promise<void> {
  console.log(
    `machine cores ${availableParallelism()} (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), node ${process.version}`,
  );
  console.log(`load average ${loadAverage()}`);
  console.log(`submits ${SUBMITS} after a warm-up of ${WARMUP}, sequential then ${CONCURRENCY} concurrent clients\n`);
  const bundle = await bundleSizes();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`Worker bundle (wrangler deploy --dry-run): ${kib(bundle.raw)} raw, ${kib(bundle.gzip)} gzip\n`);

  const worker = await benchWorker();
  const node = await benchNode();
  const ms = (value: number) => value.toFixed(2);
  const rows = (
    [
      ['sequential p50 ms', (r: HostResult) => r.sequential.p50],
      ['sequential p99 ms', (r: HostResult) => r.sequential.p99],
      ['sequential submits/s', (r: HostResult) => r.sequential.perSecond],
      [`concurrency ${CONCURRENCY} p50 ms`, (r: HostResult) => r.concurrent.p50],
      [`concurrency ${CONCURRENCY} p99 ms`, (r: HostResult) => r.concurrent.p99],
      [`concurrency ${CONCURRENCY} submits/s`, (r: HostResult) => r.concurrent.perSecond],
    ] as const
  ).map(([metric, of]) => [metric, ms(of(worker)), ms(of(node)), (of(worker) / of(node)).toFixed(2)]);
  printTable(['metric', worker.name, node.name, 'Worker/Node'], rows);
  // Both hosts and this client share the machine's cores: figures taken under other load are not comparable.
  console.log(`\nload average at the end ${loadAverage()}`);

  for (const result of [worker, node]) {
    if (result.failures.length) {
      console.log(`${result.name}: ${result.failures.length} submits were not 201, e.g. ${result.failures[0]}`);
      process.exitCode = 1;
    }
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
