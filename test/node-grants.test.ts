/**
 * Node enrolment bound to partitions (issue 12, item 5): a node token names one node and the partitions it may serve;
 * a heartbeat, claim or confirm for any other is a 403 naming the partition, and a job of another partition is never
 * handed to the node, whatever its Redis claim said: it stays queued for a node that may run it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../shared/db/query-rows.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import type { JobQueue } from '../shared/queue/job-queue.js';
import { backends } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

/** A claim made straight on the queue (as a daemon may on Redis), past the API's claim endpoint. */
const claimStraight = (queue: JobQueue, node: string, partitions: string[]) =>
  queue.claim({
    node,
    partitions,
    cpus: 8,
    memoryMb: 64_000,
    freeCpus: 8,
    freeMemoryMb: 64_000,
    runsAs: { any_user: false, users: [], unnamed: true },
  });
const capacity = (partitions: string[]) => ({ partitions, cpus: 8, memory_mb: 64_000 });
const claimBody = (partitions: string[]) => ({ ...capacity(partitions), free_cpus: 8, free_memory_mb: 64_000 });
const smallJob = (partition: string) =>
  validJob({ partition, cpus_per_task: 1, ntasks_per_node: 1, memory_per_node: '1G' });

async function expectRefused(response: Response, partition: string) {
  expect(response.status).toBe(403);
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  const problem = (await response.json()) as { code: string; detail: string };
  expect(problem.code).toBe('partition_not_granted');
  expect(problem.detail).toContain(`"${partition}"`);
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`node tokens bound to partitions on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1', ['batch']);
      // Another node serves gpu, so that a gpu job may be submitted at all.
      const gpu = await t.token('node', 'g1', ['gpu']);
      expect((await t.call('POST', '/v1/nodes/g1/heartbeat', { token: gpu, body: capacity(['gpu']) })).status).toBe(
        200,
      );
    });
    afterAll(() => t?.close());

    it('shows the grant on the token, and refuses a node token without one', async () => {
      const tokens = (await (await t.call('GET', '/v1/tokens')).json()) as {
        tokens: { node: string | null; partitions: string[] | null }[];
      };
      expect(tokens.tokens.find((token) => token.node === 'n1')?.partitions).toEqual(['batch']);
      const response = await t.call('POST', '/v1/tokens', { body: { name: 'x', kind: 'node', node: 'x' } });
      expect(response.status).toBe(422);
    });

    it('refuses a heartbeat naming a partition not granted, and records nothing', async () => {
      await expectRefused(
        await t.call('POST', '/v1/nodes/n1/heartbeat', { token: n1, body: capacity(['batch', 'gpu']) }),
        'gpu',
      );
      const nodes = (await (await t.call('GET', '/v1/nodes')).json()) as { nodes: { name: string }[] };
      expect(nodes.nodes.map((node) => node.name)).not.toContain('n1');
      expect((await t.call('POST', '/v1/nodes/n1/heartbeat', { token: n1, body: capacity(['batch']) })).status).toBe(
        200,
      );
    });

    it('refuses a heartbeat for another node name', async () => {
      const response = await t.call('POST', '/v1/nodes/g1/heartbeat', { token: n1, body: capacity(['batch']) });
      expect(response.status).toBe(403);
    });

    it('refuses a claim naming a partition not granted, and leaves its jobs queued', async () => {
      const id = Number(await t.submit(smallJob('gpu')));
      await expectRefused(await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody(['gpu']) }), 'gpu');
      expect(await t.queue.missing([id])).toEqual([]);
      await t.call('POST', `/v1/jobs/${id}/cancel`);
    });

    it('refuses a confirm of a job of another partition, whatever the claim said, and puts it back in the queue', async () => {
      // The claim the node could make straight on the queue (Redis), past the API's claim endpoint.
      const id = Number(await t.submit(smallJob('gpu')));
      const refs = await claimStraight(t.queue, 'n1', ['gpu']);
      expect(refs.map((ref) => ref.id)).toContain(id);
      await expectRefused(
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [String(id)] } }),
        'gpu',
      );
      const job = (await (await t.call('GET', `/v1/jobs/${id}`)).json()) as { state: string; node: string | null };
      expect(job).toMatchObject({ state: 'PENDING', node: null });
      // Back in the queue at once, claimable by the node that serves gpu.
      const g1 = await claimStraight(t.queue, 'g1', ['gpu']);
      expect(g1.map((ref) => ref.id)).toContain(id);
      await t.queue.release('g1', [id]);
      await t.call('POST', `/v1/jobs/${id}/cancel`);
    });

    it('confirms the jobs of its own partitions', async () => {
      const id = Number(await t.submit(smallJob('batch')));
      const claim = await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody(['batch']) });
      expect(((await claim.json()) as { refs: { id: string }[] }).refs.map((ref) => ref.id)).toContain(String(id));
      const confirm = await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [String(id)] } });
      expect(confirm.status).toBe(200);
      expect(((await confirm.json()) as { jobs: { id: string }[] }).jobs.map((job) => job.id)).toEqual([String(id)]);
    });

    it('an admin token may still speak for any node and partition', async () => {
      const response = await t.call('POST', '/v1/nodes/n9/heartbeat', { body: capacity(['batch', 'gpu', 'other']) });
      expect(response.status).toBe(200);
    });
  });
}

describe('a node claiming straight from Redis', async () => {
  const skip = await redisUnreachable();
  const [pglite] = await backends();
  describe.skipIf(skip)('on the Redis queue', () => {
    let t: TestApp;
    let queue: RedisJobQueue;
    const prefix = `test:grants:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
    beforeAll(async () => {
      queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
      t = await createTestApp(pglite!, { queue });
    });
    afterAll(async () => {
      await t?.close();
      await queue?.close();
      await deleteKeys(prefix);
    });

    it('cannot start a job of a partition it was not granted: the confirm refuses it and it stays queued', async () => {
      const n1 = await t.token('node', 'n1', ['batch']);
      const g1 = await t.token('node', 'g1', ['gpu']);
      for (const [node, token, partitions] of [
        ['n1', n1, ['batch']],
        ['g1', g1, ['gpu']],
      ] as const) {
        const response = await t.call('POST', `/v1/nodes/${node}/heartbeat`, {
          token,
          body: capacity([...partitions]),
        });
        expect(response.status).toBe(200);
      }
      const id = Number(await t.submit(smallJob('gpu')));
      // The node's own Redis client claims a gpu ref, as a daemon with REDIS_URL does.
      const claimed = await claimStraight(queue, 'n1', ['gpu']);
      expect(claimed.map((ref) => ref.id)).toEqual([id]);
      await expectRefused(
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [String(id)] } }),
        'gpu',
      );
      const [row] = await queryRows(t.database.db, sql`SELECT state, node_name FROM jobs WHERE id = ${id}`);
      expect(row).toEqual({ state: 'PENDING', node_name: null });
      // The gpu node gets it.
      const again = await claimStraight(queue, 'g1', ['gpu']);
      expect(again.map((ref) => ref.id)).toEqual([id]);
      const confirm = await t.call('POST', '/v1/nodes/g1/confirm', { token: g1, body: { job_ids: [String(id)] } });
      expect(((await confirm.json()) as { jobs: { id: string }[] }).jobs.map((job) => job.id)).toEqual([String(id)]);
    });
  });
});
