/**
 * `npm run bench:packing`: how well one node packs mixed jobs, in real processes on this machine: the embedded
 * default (`npm start`: API, PGlite, the Postgres queue and its node daemon in one process) with a 2-CPU node.
 *
 * Each host runs one job before it is measured, so that the figures are of a warm node.
 *
 * (a) The Slurm peer's packing workload (/work/shared/peers/bench-slurm.sh): 20 jobs needing 2,1,1,2,1,1,… CPUs,
 *     each `sleep 1`. Makespan from the first submit to the last job's end as the API recorded it, against the ideal
 *     (total cpu-seconds / 2). With BENCH_SLURM=1 (as root) the peer's own packing run follows, in the same run.
 * (b) A mixed workload with time limits, backfill on against off (CONDUCTOR_BACKFILL): short 1-CPU jobs, 2-CPU jobs
 *     and a few long 1-CPU ones, in an interleaved order, with a short starvation bound so that 2-CPU heads get their
 *     reservation. Utilisation (busy cpu-seconds / (2 × makespan)) and makespan of each.
 *
 * Env: BENCH_MIXED_JOBS (200), BENCH_STARVATION_SECONDS (2, for b), BENCH_SLURM (unset: the peer is not run),
 * BENCH_TRACE (set: each job's submit, start and end, to stderr), BENCH_ONLY (packing or mixed: that part alone).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildServer } from '../test/helpers/child-server.js';
import { BenchCluster, until } from './bench-cluster.js';

const CPUS = 2;
const MIXED_JOBS = Number(process.env.BENCH_MIXED_JOBS ?? 200);
const STARVATION_SECONDS = process.env.BENCH_STARVATION_SECONDS ?? '2';
const ONLY = process.env.BENCH_ONLY;
const TRACE = Boolean(process.env.BENCH_TRACE);

interface JobSpec {
  cpus: number;
  seconds: number;
  /** Slurm time format (M:S); the job's own limit, which backfill trusts. */
  limit: string;
}

interface Outcome {
  makespanS: number;
  busyCpuSeconds: number;
}

const cluster = new BenchCluster('packing');

/** A fresh embedded default with one 2-CPU node; `env` adds its settings. */
async function startEmbedded(env: Record<string, string>): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(cluster.scratch, 'embedded-'));
  const host = await cluster.startHost({
    CONDUCTOR_DATA_DIR: dataDir,
    CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
    CONDUCTOR_NODE_CPUS: String(CPUS),
    CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
    ...env,
  });
  await until('the local node UP', async () => host.stdout().some((line) => line.includes('is UP')), 60_000);
  // One job first: the figures are of a warm node (as Slurm's long-running daemons are), not of a first start.
  await run(host, [{ cpus: 1, seconds: 0, limit: '10' }]);
  return host;
}

/** Submits the jobs in order, one at a time (their order is their queue order), and waits for all to end. */
async function run(host: ChildServer, specs: JobSpec[]): Promise<Outcome> {
  const cwd = mkdtempSync(join(cluster.scratch, 'jobs-'));
  const sent = Date.now();
  const ids: string[] = [];
  for (const spec of specs) {
    const body = {
      job: {
        name: 'pack',
        current_working_directory: cwd,
        ntasks_per_node: 1,
        cpus_per_task: spec.cpus,
        memory_per_node: '10M',
        time_limit: spec.limit,
        // Traced: the job prints when it began and finished its sleep.
        standard_output: TRACE ? 'slurm-%j.out' : '/dev/null',
      },
      script: TRACE
        ? `#!/bin/bash\ndate +%s%3N\nsleep ${spec.seconds}\ndate +%s%3N`
        : `#!/bin/bash\nsleep ${spec.seconds}`,
    };
    ids.push(((await cluster.call(host, 'POST', '/v1/jobs', body)) as { id: string }).id);
    if (process.env.BENCH_TRACE)
      console.error(`submitted job ${ids.at(-1)} at ${((Date.now() - sent) / 1000).toFixed(2)} s`);
  }
  const done = async () => {
    const stats = (await cluster.call(host, 'GET', '/v1/stats')) as { by_state: Record<string, number> };
    return (stats.by_state.PENDING ?? 0) + (stats.by_state.RUNNING ?? 0) === 0;
  };
  await until('every job ended', done, 30 * 60_000, 200);
  let lastEnd = 0;
  let busyCpuSeconds = 0;
  for (const id of ids) {
    const job = (await cluster.call(host, 'GET', `/v1/jobs/${id}`)) as {
      state: string;
      cpus: number;
      start_time: string;
      end_time: string;
    };
    if (job.state !== 'COMPLETED') throw new Error(`job ${id} ended ${job.state}`);
    const end = Date.parse(job.end_time);
    if (TRACE) {
      const at = (time: number) => ((time - sent) / 1000).toFixed(2);
      const [began, finished] = readFileSync(join(cwd, `slurm-${id}.out`), 'utf8')
        .trim()
        .split('\n')
        .map(Number);
      console.error(
        `job ${id}: ${job.cpus} CPU(s), RUNNING ${at(Date.parse(job.start_time))} s, began ${at(began!)} s, ` +
          `finished ${at(finished!)} s, ended ${at(end)} s`,
      );
    }
    lastEnd = Math.max(lastEnd, end);
    busyCpuSeconds += (job.cpus * (end - Date.parse(job.start_time))) / 1000;
  }
  return { makespanS: (lastEnd - sent) / 1000, busyCpuSeconds };
}

/** The peer's packing workload: 2,1,1,2,1,1,… CPUs, `sleep 1` each (bench-slurm.sh bench_packing). */
function peerWorkload(): JobSpec[] {
  return Array.from({ length: 20 }, (_, i) => ({ cpus: i % 3 === 0 ? 2 : 1, seconds: 1, limit: '10' }));
}

/**
 * Short 1-CPU jobs, 2-CPU jobs and long 1-CPU jobs, interleaved so that a 2-CPU job often waits behind a long one:
 * the idle CPU beside the long job is what backfill can use. Limits are a little above the run times, as users set
 * them.
 */
function mixedWorkload(count: number): JobSpec[] {
  return Array.from({ length: count }, (_, i): JobSpec => {
    if (i % 10 === 0) return { cpus: 1, seconds: 4, limit: '0:06' };
    if (i % 10 === 1 || i % 10 === 5) return { cpus: 2, seconds: 0.6, limit: '0:02' };
    return { cpus: 1, seconds: 0.3, limit: '0:01' };
  });
}

const cpuSeconds = (specs: JobSpec[]) => specs.reduce((sum, spec) => sum + spec.cpus * spec.seconds, 0);
const fixed = (value: number, digits = 2) => value.toFixed(digits);

/** The Slurm peer's packing figures from its own script, or why there are none. */
function slurmPacking(): string {
  if (!process.env.BENCH_SLURM)
    return 'Slurm peer: not run (BENCH_SLURM=1 runs /work/shared/peers/bench-slurm.sh packing)';
  const result = spawnSync('bash', ['/work/shared/peers/bench-slurm.sh', 'packing'], { encoding: 'utf8' });
  if (result.status !== 0) return `Slurm peer: failed (${result.stderr.trim().split('\n').at(-1)})`;
  const figures = Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([name, value]) => [name, value]),
  );
  return `Slurm peer packing: makespan ${figures.packing_makespan} s, ideal ${figures.packing_ideal} s, ratio ${figures.packing_ratio}`;
}

try {
  const lines: string[] = [];
  // (a) The peer's workload, with the default settings.
  if (ONLY !== 'mixed') {
    const specs = peerWorkload();
    const ideal = cpuSeconds(specs) / CPUS;
    const host = await startEmbedded({});
    const packing = await run(host, specs);
    await host.stop();
    lines.push(
      `packing (20 mixed 1-2 CPU sleep 1 on ${CPUS} CPUs): makespan ${fixed(packing.makespanS)} s, ideal ${fixed(ideal)} s, ` +
        `ratio ${fixed(packing.makespanS / ideal, 3)} (target at most 1.15)`,
    );
    lines.push(slurmPacking());
  }

  // (b) Backfill on against off, each on a fresh host; the same jobs in the same order.
  const mixed = mixedWorkload(MIXED_JOBS);
  for (const backfill of ONLY === 'packing' ? [] : ['on', 'off']) {
    const mixedHost = await startEmbedded({
      CONDUCTOR_BACKFILL: backfill,
      CONDUCTOR_STARVATION_SECONDS: STARVATION_SECONDS,
    });
    const outcome = await run(mixedHost, mixed);
    await mixedHost.stop();
    lines.push(
      `mixed ${MIXED_JOBS} jobs with time limits, backfill ${backfill}: makespan ${fixed(outcome.makespanS)} s ` +
        `(ideal ${fixed(cpuSeconds(mixed) / CPUS)} s), utilisation ${fixed((100 * outcome.busyCpuSeconds) / (CPUS * outcome.makespanS), 1)}%`,
    );
  }
  for (const line of lines) console.log(line);
} finally {
  await cluster.close();
}
