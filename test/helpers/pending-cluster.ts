/**
 * A small cluster for the PENDING-reason and why tests: configured partitions, nodes that heartbeat, jobs submitted
 * and started through the API the way a daemon starts them (a claim on the queue, then the API's confirm), on each
 * database with the Postgres queue and on the Postgres server with a Redis queue (claims differ, reasons must not).
 */
import { expect } from 'vitest';
import { partitions, type PartitionState } from '../../shared/db/schema.js';
import { ioredisClient } from '../../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../../shared/queue/redis/redis-job-queue.js';
import type { RunsAs } from '../../shared/protocol/runs-as.js';
import { createTestApp, validJob, type TestApp } from './test-app.js';
import { backends } from './test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './test-redis.js';

export const ROOT_ALLOWING: RunsAs = { any_user: true, users: [], unnamed: true };

export interface ClusterSetup {
  name: string;
  skip: string | undefined;
  open(): Promise<TestApp>;
}

/** PGlite and the Postgres server with the Postgres queue, and the Postgres server with a Redis (TCP) queue. */
export async function clusterSetups(): Promise<ClusterSetup[]> {
  const [pglite, postgres] = await backends();
  const redisSkip = await redisUnreachable();
  return [
    { name: `${pglite!.name}, Postgres queue`, skip: pglite!.skip, open: () => createTestApp(pglite!) },
    { name: `${postgres!.name}, Postgres queue`, skip: postgres!.skip, open: () => createTestApp(postgres!) },
    {
      name: `${postgres!.name}, Redis queue`,
      skip: postgres!.skip ?? redisSkip,
      async open() {
        const prefix = `test:why:${Math.random().toString(36).slice(2, 10)}:`;
        const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
        const t = await createTestApp(postgres!, { queue });
        return {
          ...t,
          async close() {
            await t.close();
            await queue.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
  ];
}

export async function json(response: Promise<Response>, status: number) {
  const answer = await response;
  const body = await answer.json();
  expect(answer.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** A 1-CPU, 1G job of this partition, with a time limit of an hour unless said. */
export const smallJob = (partition: string, extra: Record<string, unknown> = {}) =>
  validJob({ partition, cpus_per_task: 1, ntasks_per_node: 1, memory_per_node: '1G', time_limit: '1:00:00', ...extra });

/** Configures a partition in this state (as the admin API will; the table is the truth this code reads). */
export async function configurePartition(t: TestApp, name: string, state: PartitionState = 'UP') {
  await t.database.db
    .insert(partitions)
    .values({ name, state })
    .onConflictDoUpdate({ target: partitions.name, set: { state } });
}

/** Registers (or re-registers) a node: 8 CPUs, 64000 MB unless said. */
export async function beat(
  t: TestApp,
  node: string,
  partitionNames: string[],
  size: { cpus?: number; memory_mb?: number } = {},
  runsAs: RunsAs = ROOT_ALLOWING,
) {
  return json(
    t.call('POST', `/v1/nodes/${node}/heartbeat`, {
      body: { partitions: partitionNames, cpus: 8, memory_mb: 64_000, ...size, runs_as: runsAs },
    }),
    200,
  );
}

/**
 * Starts these jobs (the whole queue of the partition) on an empty node of this size as its daemon would: a claim on
 * the queue (first fit), then the API's confirm.
 */
export async function startOn(t: TestApp, node: string, partition: string, ids: string[], cpus = 8, memoryMb = 64_000) {
  const refs = await t.queue.claim({
    node,
    partitions: [partition],
    cpus,
    memoryMb,
    freeCpus: cpus,
    freeMemoryMb: memoryMb,
    runsAs: ROOT_ALLOWING,
  });
  expect(refs.map((ref) => String(ref.id)).sort()).toEqual([...ids].sort());
  const confirmed = await json(t.call('POST', `/v1/nodes/${node}/confirm`, { body: { job_ids: ids } }), 200);
  expect(confirmed.jobs.map((job: { id: string }) => job.id).sort()).toEqual([...ids].sort());
}
