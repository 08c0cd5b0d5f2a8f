/**
 * `npm run bench:requests`: what one job costs each service on the Workers deployment, counted, not guessed: the
 * Worker in workerd (`wrangler dev`) on the Postgres server through Neon's driver and the WebSocket proxy fixture, on
 * Redis through the Upstash client and the REST bridge fixture, job output in s3rver; one real node daemon claiming
 * from Redis directly and shipping to s3rver. BENCH_JOBS jobs (20) are submitted through the Worker, run, and read
 * back once each (the job and its stdout), after a warm-up of 2; then one run of the reconciler is counted alone.
 * The counting is test/fixtures/workers-cost.ts, the same the test suite runs (workers-daemon.test.ts).
 *
 * Env: DATABASE_URL (default the local test server), REDIS_URL (default the local one), BENCH_JOBS (20).
 */
import { startWorkerDeployment } from '../test/fixtures/worker-deployment.js';
import { startWorkerNode } from '../test/fixtures/worker-node.js';
import { measureJobCost, measureReconcilerRun, printJobCost } from '../test/fixtures/workers-cost.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 20);

const deployment = await startWorkerDeployment('bench_requests', { args: ['--test-scheduled'] });
try {
  const node = await startWorkerNode(deployment, 'bench');
  try {
    // The first requests of an isolate build its app and look tokens up: not what a job costs in steady state.
    await measureJobCost(deployment, node, 2);
    const cost = await measureJobCost(deployment, node, JOBS, 600_000);
    printJobCost(cost, await measureReconcilerRun(deployment));
  } finally {
    await node.stop();
  }
} finally {
  await deployment.stop();
}
