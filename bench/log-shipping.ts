/**
 * `npm run bench:logs`: job output from a job's file to the log store and to a following client, in real processes:
 * the Node host on the Postgres server, a daemon from the bundle, and the store (a directory, or an S3 server: s3rver
 * in its own process), with the default flush and poll settings.
 *
 * 1. Shipping throughput: a job writes BENCH_LOG_MB of zeros to stdout as fast as it can; throughput is its size over
 *    the time from the job's first byte to its end being reported (which waits for the last byte to be stored). The
 *    job's own write time is set against the same write run by bash with no daemon around (the reference).
 * 2. Follow latency: a job prints a line with the time every 100 ms; a client follows its stdout through the API and
 *    notes when each line arrives. p50 and p95 of the difference.
 *
 * Env: DATABASE_URL (default the local test server), BENCH_LOG_MB (500), BENCH_LINES (100).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ChildServer } from '../test/helpers/child-server.js';
import { withServerSchema } from '../test/helpers/test-databases.js';
import { startTestS3, type TestS3 } from '../test/helpers/test-s3.js';
import { BenchCluster, percentile, submitBody, until } from './bench-cluster.js';

const MEGABYTES = Number(process.env.BENCH_LOG_MB ?? 500);
const LINES = Number(process.env.BENCH_LINES ?? 100);
const BYTES = MEGABYTES * 1_000_000;
const MB = (bytes: number, seconds: number) => bytes / 1e6 / seconds;

const cluster = new BenchCluster('logs');
const lines: string[] = [];
const report = (line: string) => {
  lines.push(line);
  console.log(line);
};

// The job prints when its write started and ended (ns), on stderr.
const WRITER = `s=$(date +%s%N); head -c ${BYTES} /dev/zero; e=$(date +%s%N); echo "$s $e" >&2`;

/** The same write to a file on the same disk with no daemon around: seconds. */
function referenceSeconds(): number {
  const dir = mkdtempSync(join(cluster.scratch, 'reference-'));
  // Its times (stderr) to the pipe, its output (stdout) to the file.
  const [start, end] = execFileSync('bash', ['-c', `(${WRITER}) 2>&1 > ${join(dir, 'out')}`], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number);
  rmSync(dir, { recursive: true, force: true });
  return (end! - start!) / 1e9;
}

interface JobView {
  state: string;
  end_time: string | null;
  standard_error: string;
}

async function shipping(host: ChildServer, store: string, reference: number): Promise<void> {
  const work = mkdtempSync(join(cluster.scratch, 'ship-'));
  const { id } = (await cluster.call(host, 'POST', '/v1/jobs', submitBody(WRITER, work, '64M'))) as { id: string };
  let job: JobView | undefined;
  await until(
    `job ${id} to end`,
    async () => {
      job = (await cluster.call(host, 'GET', `/v1/jobs/${id}`)) as JobView;
      return job.end_time !== null;
    },
    600_000,
    50,
  );
  if (job!.state !== 'COMPLETED') throw new Error(`job ${id} ended ${job!.state}`);
  const [start, end] = readFileSync(join(work, job!.standard_error), 'utf8').trim().split(' ').map(Number);
  const storedSeconds = (Date.parse(job!.end_time!) - start! / 1e6) / 1000;
  const writeSeconds = (end! - start!) / 1e9;
  report(
    `shipping to ${store}: ${MEGABYTES} MB stored in ${storedSeconds.toFixed(2)} s: ${MB(BYTES, storedSeconds).toFixed(0)} MB/s ` +
      `(the job's own write: ${writeSeconds.toFixed(2)} s, alone ${reference.toFixed(2)} s: ` +
      `${(writeSeconds / reference).toFixed(2)}x)`,
  );
  rmSync(work, { recursive: true, force: true });
}

async function followLatency(host: ChildServer, store: string): Promise<void> {
  const work = mkdtempSync(join(cluster.scratch, 'follow-'));
  const script = `for i in $(seq 1 ${LINES}); do echo "$i \${EPOCHREALTIME/./}"; sleep 0.1; done`;
  const { id } = (await cluster.call(host, 'POST', '/v1/jobs', submitBody(script, work))) as { id: string };
  const answer = await fetch(`${host.url}/v1/jobs/${id}/logs/stdout?follow=true`, {
    headers: { Authorization: `Bearer ${cluster.adminToken}` },
  });
  const lags: number[] = [];
  const decoder = new TextDecoder();
  let text = '';
  const reader = answer.body!.getReader();
  for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
    const received = Date.now();
    text += decoder.decode(piece.value, { stream: true });
    const complete = text.split('\n').slice(0, -1);
    for (const line of complete.slice(lags.length)) lags.push(received - Number(line.split(' ')[1]) / 1000);
  }
  if (lags.length !== LINES) throw new Error(`followed ${lags.length} lines of ${LINES}`);
  lags.sort((a, b) => a - b);
  report(
    `follow latency, ${store}: p50 ${percentile(lags, 50).toFixed(0)} ms, p95 ${percentile(lags, 95).toFixed(0)} ms, ` +
      `max ${lags.at(-1)!.toFixed(0)} ms over ${LINES} lines (target p95 under 1000 ms)`,
  );
  rmSync(work, { recursive: true, force: true });
}

async function run(store: string, storeEnv: Record<string, string>, reference: number): Promise<void> {
  await withServerSchema('bench_logs', async (_schema, databaseUrl) => {
    const host = await cluster.startHost({ DATABASE_URL: databaseUrl, CONDUCTOR_LOCAL_NODE: 'off', ...storeEnv });
    const daemon = await cluster.startDaemon(host, `logs-${store.replace(/\W+/g, '-')}`, {
      CONDUCTOR_NODE_CPUS: String(availableParallelism()),
      ...storeEnv,
    });
    await shipping(host, store, reference);
    await followLatency(host, store);
    await daemon.stop();
    await host.stop();
  });
}

let s3: TestS3 | undefined;
try {
  const reference = referenceSeconds();
  report(`the write alone (bash, no daemon): ${MEGABYTES} MB in ${reference.toFixed(2)} s`);
  await run('the filesystem', {}, reference);
  s3 = await startTestS3();
  await run('S3 (s3rver)', { ...s3.env, CONDUCTOR_LOG_DIR: '' }, reference);
} finally {
  await s3?.close();
  await cluster.close();
}
console.log(`\nsummary:\n${lines.join('\n')}`);
