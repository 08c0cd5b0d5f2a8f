/**
 * What a job costs each service on the Node host (issue 16's measure, beside the Worker's in workers-daemon.test.ts):
 * the host as a process on the Postgres server and Redis over TCP, each behind a counting proxy, job output in
 * s3rver, one real daemon. The figures are printed (and `npm run bench:requests` prints both hosts'); the test holds
 * only what must be true of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureJobCost, printJobCost } from './fixtures/job-cost.js';
import { startNodeHostDeployment, type NodeHostDeployment } from './fixtures/node-host-deployment.js';
import { startWorkerNode, type WorkerNode } from './fixtures/worker-node.js';
import { backends } from './helpers/test-databases.js';
import { redisUnreachable } from './helpers/test-redis.js';

const postgres = (await backends()).find((backend) => backend.name === 'postgres');
const away = postgres!.skip ?? (await redisUnreachable());

describe.skipIf(away)('the cost of a job on the Node host', () => {
  let d: NodeHostDeployment;
  let node: WorkerNode;
  beforeAll(async () => {
    d = await startNodeHostDeployment('node_host_cost');
    node = await startWorkerNode(d, 'cost1');
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await d?.stop();
  });

  it('is counted per service: the API reads output and never writes it, the node writes it', async () => {
    await measureJobCost(d, node, 2);
    const cost = await measureJobCost(d, node, 10);
    printJobCost(cost);
    const perJob = (from: string, to: string, unit: string) =>
      cost.rows.find((row) => row.from === from && row.to === to && row.unit === unit)!.perJob;
    expect(perJob('client', 'Node host', 'requests')).toBe(3); // submit, get, one output read
    expect(perJob('Node host', 'Postgres', 'round trips')).toBeGreaterThan(0);
    // A pool: far fewer connections than requests.
    expect(perJob('Node host', 'Postgres', 'connections')).toBeLessThan(1);
    expect(perJob('Node host', 'Redis', 'commands')).toBeGreaterThan(0);
    expect(perJob('node', 'Redis (direct)', 'commands')).toBeGreaterThan(0);
    expect(Object.keys(cost.apiS3).filter((kind) => kind !== 'GET' && kind !== 'LIST')).toEqual([]);
    expect(cost.nodeS3.PUT).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
