/**
 * `npm run bench:cli`: what a user waits for `conductor submit --parsable` to answer, from the command's start to its
 * exit (process start-up, tsx, loading the command, one submit over HTTP), against the embedded API already running
 * (PGlite; no node daemon, so the jobs stay pending and nothing else competes for the cores).
 *
 * Both ways to run it: the package's bin (cli/conductor.mjs: tsx compiling the TypeScript as it loads, from its
 * cache after the first run) and the single-file bundle `npm run build:cli` makes (dist/conductor.mjs).
 *
 * Env: BENCH_RUNS (20). Prints `name value unit` lines: p50 and p90 in ms of each, and the bare `node -e ''` start-up
 * for reference (what no command can go below).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchCluster, percentile, ROOT } from './bench-cluster.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const LAUNCHER = join(ROOT, 'cli/conductor.mjs');
const BUNDLE = join(ROOT, 'dist/conductor.mjs');

function timedRuns(args: string[], env: NodeJS.ProcessEnv): number[] {
  const times: number[] = [];
  // One run first, untimed: tsx compiles the command's modules into its cache on the first load, as on a user's.
  execFileSync(process.execPath, args, { env, cwd: ROOT, stdio: 'pipe' });
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    execFileSync(process.execPath, args, { env, cwd: ROOT, stdio: 'pipe' });
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'inherit' });
const cluster = new BenchCluster('cli');
try {
  const host = await cluster.startHost({
    CONDUCTOR_DATA_DIR: join(cluster.scratch, 'data'),
    CONDUCTOR_LOCAL_NODE: 'off',
  });
  const env = {
    PATH: process.env.PATH,
    HOME: cluster.scratch,
    CONDUCTOR_URL: host.url,
    CONDUCTOR_TOKEN: cluster.adminToken,
  };
  const args = ['submit', '--parsable', '-J', 'bench', '-t', '5', '--wrap', 'true'];
  for (const [name, program] of [
    ['cli_tsx', LAUNCHER],
    ['cli_bundle', BUNDLE],
  ] as const) {
    const times = timedRuns([program, ...args], env);
    console.log(`${name}_submit_parsable_p50 ${percentile(times, 50).toFixed(0)} ms`);
    console.log(`${name}_submit_parsable_p90 ${percentile(times, 90).toFixed(0)} ms`);
  }
  console.log(`node_startup_p50 ${percentile(timedRuns(['-e', ''], env), 50).toFixed(0)} ms`);
} finally {
  await cluster.close();
}
