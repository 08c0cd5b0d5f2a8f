/**
 * `npm run bench:cli`: what a user waits for `conductor submit --parsable -J bench -t 5 --wrap true` to answer, from
 * the command's start to its exit (process start-up, loading the command, one submit over HTTP), against the embedded
 * API already running (PGlite; no node daemon, so the jobs stay pending and nothing else competes for the cores).
 * Issue 17's target: p50 under 300 ms on the development machine.
 *
 * Measured: the package's bin as installed (cli/conductor.mjs, which runs the bundle `npm run build:cli` made, built
 * here first), the same command from the TypeScript sources through tsx (what the bin falls back to before a build),
 * and bare `node -e ''`, the start-up no command can go below: the bin's ratio to it is the figure that holds on a
 * busier or quieter machine.
 *
 * Env: BENCH_RUNS (20). Prints `name value unit` lines: p50 and p95 in ms, and the ratio.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchCluster, percentile, ROOT } from './bench-cluster.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const BIN = join(ROOT, 'cli/conductor.mjs');
const SOURCES = join(ROOT, 'cli/main.ts');

/**
 * Each program's run times (ms, sorted), the programs taking turns run by run so that each meets the same load on a
 * shared machine. One run of each first, untimed: tsx compiles the modules into its cache on the first load, as on a
 * user's machine.
 */
function timedRuns(programs: Record<string, string[]>, env: NodeJS.ProcessEnv): Record<string, number[]> {
  const run = (args: string[]) => execFileSync(process.execPath, args, { env, cwd: ROOT, stdio: 'pipe' });
  const times: Record<string, number[]> = {};
  for (const [name, args] of Object.entries(programs)) {
    run(args);
    times[name] = [];
  }
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of Object.entries(programs)) {
      const start = performance.now();
      run(args);
      times[name]!.push(performance.now() - start);
    }
  }
  for (const list of Object.values(times)) list.sort((a, b) => a - b);
  return times;
}

function report(name: string, times: number[]): number {
  const p50 = percentile(times, 50);
  console.log(`${name}_p50 ${p50.toFixed(0)} ms`);
  console.log(`${name}_p95 ${percentile(times, 95).toFixed(0)} ms`);
  return p50;
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
  const times = timedRuns(
    {
      node_startup: ['-e', ''],
      cli_bin_submit_parsable: [BIN, ...args],
      cli_sources_tsx_submit_parsable: ['--import', 'tsx', SOURCES, ...args],
    },
    env,
  );
  const node = report('node_startup', times.node_startup!);
  const bin = report('cli_bin_submit_parsable', times.cli_bin_submit_parsable!);
  report('cli_sources_tsx_submit_parsable', times.cli_sources_tsx_submit_parsable!);
  console.log(`cli_bin_to_node_startup_p50_ratio ${(bin / node).toFixed(1)} x`);
} finally {
  await cluster.close();
}
