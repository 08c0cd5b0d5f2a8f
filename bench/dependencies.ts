/**
 * `npm run bench:deps`: the dependency release latency (issue 20): from a parent's end to its dependent's start, as
 * the API recorded both (the parent's end_time, the child's start_time), on the embedded default (`npm start`: API,
 * PGlite, the Postgres queue and its node daemon in one process) with a 2-CPU node, warm.
 *
 * Chains of parent → child (`afterok` on the job before), all submitted up front, so each child waits out of the queue
 * until its parent ends: the release is the parent's end report settling it (no reconciler run, no polling), its ref
 * pushed, the node woken, its claim and the confirm. Once with jobs of `true`, once with `sleep 0.2`.
 *
 * Env: BENCH_CHAINS (2: two chains run side by side, one per CPU), BENCH_CHAIN_LENGTH (25).
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildServer } from '../test/helpers/child-server.js';
import { BenchCluster, percentile, until } from './bench-cluster.js';

const CPUS = 2;
const CHAINS = Number(process.env.BENCH_CHAINS ?? 2);
const LENGTH = Number(process.env.BENCH_CHAIN_LENGTH ?? 25);

const cluster = new BenchCluster('deps');

interface Times {
  state: string;
  start_time: string | null;
  end_time: string | null;
}

async function startEmbedded(): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(cluster.scratch, 'embedded-'));
  const host = await cluster.startHost({
    CONDUCTOR_DATA_DIR: dataDir,
    CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
    CONDUCTOR_NODE_CPUS: String(CPUS),
    CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
  });
  await until('the local node UP', async () => host.stdout().some((line) => line.includes('is UP')), 60_000);
  return host;
}

/** Submits the chains (each job afterok on the one before it), waits for all to end; answers each edge's latency. */
async function chains(host: ChildServer, script: string): Promise<number[]> {
  const cwd = mkdtempSync(join(cluster.scratch, 'jobs-'));
  const submit = async (dependency?: string) => {
    const body = {
      job: {
        name: 'chain',
        current_working_directory: cwd,
        memory_per_node: '10M',
        time_limit: '10',
        standard_output: '/dev/null',
        ...(dependency ? { dependency } : {}),
      },
      script: `#!/bin/bash\n${script}`,
    };
    return ((await cluster.call(host, 'POST', '/v1/jobs', body)) as { id: string }).id;
  };
  const ids: string[][] = Array.from({ length: CHAINS }, () => []);
  for (let step = 0; step < LENGTH; step++) {
    for (const chain of ids) chain.push(await submit(step === 0 ? undefined : `afterok:${chain.at(-1)}`));
  }
  const read = async (id: string) => (await cluster.call(host, 'GET', `/v1/jobs/${id}`)) as Times;
  await until(
    'every chain ended',
    async () => (await Promise.all(ids.map((chain) => read(chain.at(-1)!)))).every((job) => job.end_time !== null),
    30 * 60_000,
    200,
  );
  const latencies: number[] = [];
  for (const chain of ids) {
    const jobs = await Promise.all(chain.map(read));
    for (const [n, job] of jobs.entries()) {
      if (job.state !== 'COMPLETED') throw new Error(`job ${chain[n]} ended ${job.state}`);
      if (n > 0) latencies.push(Date.parse(job.start_time!) - Date.parse(jobs[n - 1]!.end_time!));
    }
  }
  return latencies.sort((a, b) => a - b);
}

try {
  const host = await startEmbedded();
  // Warm: one short chain first, not measured.
  await chains(host, 'true');
  const lines: string[] = [];
  for (const script of ['true', 'sleep 0.2']) {
    const latencies = await chains(host, script);
    lines.push(
      `dependency release (parent end -> child start, ${CHAINS} chains of ${LENGTH} afterok jobs of \`${script}\`, ` +
        `${latencies.length} edges): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, ` +
        `max ${latencies.at(-1)} ms`,
    );
  }
  for (const line of lines) console.log(line);
} finally {
  await cluster.close();
}
