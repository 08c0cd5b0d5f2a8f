/**
 * `npm run bench:requests`: what one job costs each service, by host, counted, not guessed. First the Workers
 * deployment: the Worker in workerd (`wrangler dev`) on the Postgres server through Neon's driver and the WebSocket
 * proxy fixture, on Redis through the Upstash client and the REST bridge fixture; then the Node host as a process on
 * the same servers over TCP (pg, ioredis). Job output in s3rver; one real node daemon claiming from Redis directly
 * and shipping to s3rver. BENCH_JOBS jobs (20) are submitted through the API, run, and read back once each (the job
 * and its stdout), after a warm-up of 2; on the Worker one run of the reconciler is then counted alone (the Node host
 * runs the same reconciler on its own clock). The counting is test/fixtures/job-cost.ts, the same the test suite runs
 * (workers-daemon.test.ts, node-host-cost.test.ts).
 *
 * Env: DATABASE_URL (default the local test server), REDIS_URL (default the local one), BENCH_JOBS (20).
 */
import type { Deployment } from '../test/fixtures/deployment.js';
import { measureJobCost, measureReconcilerRun, printJobCost } from '../test/fixtures/job-cost.js';
import { startNodeHostDeployment } from '../test/fixtures/node-host-deployment.js';
import { startWorkerDeployment } from '../test/fixtures/worker-deployment.js';
import { startWorkerNode } from '../test/fixtures/worker-node.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 20);

/** Counts a warm-up, then JOBS jobs, on `deployment` with one daemon; answers what `after` adds; stops it all. */
async function measure(deployment: Deployment, after?: () => Promise<Record<string, number>>): Promise<void> {
  try {
    const node = await startWorkerNode(deployment, 'bench');
    try {
      // The first requests of a host build its app and look tokens up: not what a job costs in steady state.
      await measureJobCost(deployment, node, 2);
      printJobCost(await measureJobCost(deployment, node, JOBS, 600_000), await after?.());
    } finally {
      await node.stop();
    }
  } finally {
    await deployment.stop();
  }
}

const worker = await startWorkerDeployment('bench_requests', { args: ['--test-scheduled'] });
await measure(worker, () => measureReconcilerRun(worker));
await measure(await startNodeHostDeployment('bench_requests_node'));
