/**
 * `npm run bench:why`: what the expected start of GET /v1/jobs/{id}/why costs (api/jobs/why/expected-start.ts), for
 * 25, 50 and the simulated cap of jobs ahead (SIMULATED_AHEAD), next to the reference of no job ahead in the same
 * process. Two 64-core nodes, each half full of running jobs ending a minute apart; the jobs ahead of 1-8 cores and
 * 1-30 minutes.
 *
 * Env: BENCH_ROUNDS (20). Prints `name value unit` lines: ms per plan for each, and each one's ratio to the reference.
 */
import { performance } from 'node:perf_hooks';
import { expectedStart, type PlannedJob } from '../api/jobs/why/expected-start.js';
import { SIMULATED_AHEAD } from '../api/jobs/why/explain-pending.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const nodes = [
  { name: 'a', cpus: 64, memoryMb: 256_000 },
  { name: 'b', cpus: 64, memoryMb: 256_000 },
];
const running = Array.from({ length: 64 }, (_, i) => ({
  jobId: i,
  node: i % 2 ? 'a' : 'b',
  cpus: 1,
  memoryMb: 100,
  exclusive: false,
  start: 0,
  end: (i + 1) * 60_000,
}));
const job = (id: number): PlannedJob => ({
  id,
  cpus: 1 + (id % 8),
  memoryMb: 100,
  exclusive: false,
  timeLimitSeconds: 60 * (1 + (id % 30)),
  nodes,
});

/** Mean ms of one plan with `ahead` jobs ahead, over ROUNDS after one warm-up. */
function planMs(ahead: number): number {
  const jobs = Array.from({ length: ahead }, (_, i) => job(1000 + i));
  expectedStart(job(1), jobs, running, 0);
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) expectedStart(job(1), jobs, running, 0);
  return (performance.now() - started) / ROUNDS;
}

const reference = planMs(0);
console.log(`why_plan_0_ahead ${reference.toFixed(3)} ms`);
for (const ahead of [25, 50, SIMULATED_AHEAD]) {
  const ms = planMs(ahead);
  console.log(`why_plan_${ahead}_ahead ${ms.toFixed(3)} ms`);
  console.log(`why_plan_${ahead}_ahead_ratio ${(ms / reference).toFixed(0)} x`);
}
