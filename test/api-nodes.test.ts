import { readClusterId } from '../shared/db/cluster-id.js';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs as jobsTable, nodes } from '../shared/db/schema.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 32_000 };
const claimBody = { ...capacity, free_cpus: 8, free_memory_mb: 32_000 };

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`nodes on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1');
    });
    afterAll(() => t?.close());

    const beat = async (node = 'n1', token = n1) => {
      const response = await t.call('POST', `/v1/nodes/${node}/heartbeat`, { token, body: capacity });
      expect(response.status).toBe(200);
      return response.json();
    };
    const listed = async () => (await (await t.call('GET', '/v1/nodes')).json()).nodes;
    const drain = () => t.database.db.execute(sql`DELETE FROM queue_refs`);

    it('registers a node on its first heartbeat and shows it with its capacity and allocation', async () => {
      // The answer says the database's cluster id: the node stores output under it.
      const cluster_id = await readClusterId(t.database.db);
      expect(await beat()).toEqual({ state: 'UP', cancel: [], stop: [], cluster_id, lease_seconds: 300 });
      await drain();
      const id = await t.submit(validJob({ cpus_per_task: 3, ntasks_per_node: 1, memory_per_node: '2G' }));
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } });
      const [node] = await listed();
      expect(node).toMatchObject({
        name: 'n1',
        state: 'UP',
        partitions: ['batch'],
        cpus: 8,
        memory_mb: 32_000,
        cpus_allocated: 3,
        memory_allocated_mb: 2048,
      });
      expect(node.last_heartbeat).toMatch(/Z$/);
      // Its lease, renewed by the heartbeat: CONDUCTOR_NODE_LEASE_SECONDS (300 s by default) from it.
      expect(Date.parse(node.lease_expires_at) - Date.parse(node.last_heartbeat)).toBe(300_000);
    });

    it('tells a node, in its heartbeat, which of its RUNNING jobs to cancel', async () => {
      await drain();
      const id = await t.submit();
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } });
      await t.call('POST', `/v1/jobs/${id}/cancel`);
      expect((await beat()).cancel).toContainEqual({ job_id: id, attempt: 1 });
    });

    it('gives a draining node no work, sends back what it claimed, and gives work again once resumed', async () => {
      await drain();
      const id = await t.submit();
      const drained = await t.call('POST', '/v1/nodes/n1/drain');
      expect(drained.status).toBe(200);
      expect((await drained.json()).state).toBe('DRAINING');
      expect(await beat()).toMatchObject({ state: 'DRAINING' });
      expect((await (await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody })).json()).refs).toEqual(
        [],
      );
      // A ref it took straight from the queue (as a daemon does from Redis) is refused and put back.
      await t.queue.claim({
        node: 'n1',
        partitions: ['batch'],
        cpus: 8,
        memoryMb: 32_000,
        freeCpus: 8,
        freeMemoryMb: 32_000,
        runsAs: { any_user: true, users: [], unnamed: true },
      });
      const refused = await (
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })
      ).json();
      expect(refused).toEqual({
        jobs: [],
        dropped: [id],
        sequence: expect.any(Number),
        cluster_id: expect.any(String),
      });
      expect(await t.queue.depth()).toEqual({ batch: 1 });

      expect((await (await t.call('POST', '/v1/nodes/n1/resume')).json()).state).toBe('UP');
      const claim = await (await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody })).json();
      expect(claim.refs.map((r: { id: string }) => r.id)).toEqual([id]);
    });

    it('gives an unknown node no work until its first heartbeat', async () => {
      await drain();
      await t.submit();
      const n9 = await t.token('node', 'n9');
      expect((await (await t.call('POST', '/v1/nodes/n9/claim', { token: n9, body: claimBody })).json()).refs).toEqual(
        [],
      );
      await beat('n9', n9);
      expect(
        (await (await t.call('POST', '/v1/nodes/n9/claim', { token: n9, body: claimBody })).json()).refs,
      ).toHaveLength(1);
    });

    it('brings a DOWN node that speaks again back UP, or DRAINING if it was drained', async () => {
      await beat();
      await t.database.db.update(nodes).set({ state: 'DOWN' }).where(eq(nodes.name, 'n1'));
      expect(await beat()).toMatchObject({ state: 'UP' });
      await t.call('POST', '/v1/nodes/n1/drain');
      await t.database.db.update(nodes).set({ state: 'DOWN' }).where(eq(nodes.name, 'n1'));
      expect(await beat()).toMatchObject({ state: 'DRAINING' });
      await t.call('POST', '/v1/nodes/n1/resume');
      expect(await beat()).toMatchObject({ state: 'UP' });
    });

    it('keeps node endpoints to their own node, and drain and resume to admins', async () => {
      const alice = await t.token('user', 'physics');
      expect((await t.call('POST', '/v1/nodes/n2/heartbeat', { token: n1, body: capacity })).status).toBe(403);
      expect((await t.call('POST', '/v1/nodes/n1/drain', { token: n1 })).status).toBe(403);
      expect((await t.call('POST', '/v1/nodes/n1/resume', { token: alice })).status).toBe(403);
      expect((await t.call('POST', '/v1/nodes/nowhere/drain')).status).toBe(404);
      expect((await t.call('GET', '/v1/nodes', { token: alice })).status).toBe(200);
    });

    it.each([
      [{ ...capacity, cpus: 0 }, 'cpus'],
      [{ ...capacity, partitions: ['a b'] }, 'partitions.0'],
      [{ ...capacity, extra: true }, 'extra'],
    ])('refuses heartbeat %j naming %s', async (body, field) => {
      const response = await t.call('POST', '/v1/nodes/n1/heartbeat', { token: n1, body });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`submits no node could ever run, on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
      const token = await t.token('node', 'small');
      const small = { partitions: ['tiny'], cpus: 4, memory_mb: 8192 };
      expect((await t.call('POST', '/v1/nodes/small/heartbeat', { token, body: small })).status).toBe(200);
      const other = await t.token('node', 'lean');
      const lean = { partitions: ['tiny'], cpus: 8, memory_mb: 1024 };
      expect((await t.call('POST', '/v1/nodes/lean/heartbeat', { token: other, body: lean })).status).toBe(200);
    });
    afterAll(() => t?.close());

    const jobs = async () => (await t.database.db.select({ id: jobsTable.id }).from(jobsTable)).length;
    const submit = (job: Record<string, unknown>) =>
      t.call('POST', '/v1/jobs', {
        body: { job: validJob({ partition: 'tiny', ...job }), script: '#!/bin/bash\ntrue' },
      });

    it('refuses more CPUs than any node of the partition has, naming the field, and stores nothing', async () => {
      const before = await jobs();
      const response = await submit({ ntasks_per_node: 3, cpus_per_task: 3, memory_per_node: '1G' });
      expect(response.status).toBe(422);
      const problem = await response.json();
      expect(problem.errors).toEqual([
        {
          field: 'job.cpus_per_task',
          message:
            'the job asks for 9 CPUs (ntasks_per_node × cpus_per_task); the largest node in partition "tiny" has 8',
        },
      ]);
      expect(await jobs()).toBe(before);
    });

    it('refuses more memory than any node has, and a size no single node has both parts of', async () => {
      const memory = await submit({ ntasks_per_node: 1, cpus_per_task: 1, memory_per_node: '16G' });
      expect(memory.status).toBe(422);
      expect((await memory.json()).errors.map((error: { field: string }) => error.field)).toEqual([
        'job.memory_per_node',
      ]);
      // 8 CPUs are on "lean", 8 GB on "small": no node has both.
      const both = await submit({ ntasks_per_node: 1, cpus_per_task: 8, memory_per_node: '8G' });
      expect(both.status).toBe(422);
      expect((await both.json()).errors).toEqual([
        { field: 'job', message: 'no node in partition "tiny" has both 8 CPUs and 8192 MB' },
      ]);
    });

    it('the original /jobs/submit refuses it the same way', async () => {
      const response = await t.call('POST', '/jobs/submit', {
        body: {
          job: validJob({ partition: 'tiny', cpus_per_task: 16, ntasks_per_node: 1 }),
          script: '#!/bin/bash\ntrue',
        },
      });
      expect(response.status).toBe(422);
    });

    it('accepts what a node fits, anything in a configured partition no node has joined yet, and at once after a node grows', async () => {
      expect((await submit({ ntasks_per_node: 1, cpus_per_task: 4, memory_per_node: '8G' })).status).toBe(201);
      const elsewhere = await t.call('POST', '/v1/jobs', {
        body: { job: validJob({ partition: 'future', cpus_per_task: 64 }), script: '#!/bin/bash\ntrue' },
      });
      expect(elsewhere.status).toBe(201);
      const big = { ntasks_per_node: 1, cpus_per_task: 16, memory_per_node: '1G' };
      expect((await submit(big)).status).toBe(422);
      const token = await t.token('node', 'grown');
      const grown = { partitions: ['tiny'], cpus: 16, memory_mb: 8192 };
      expect((await t.call('POST', '/v1/nodes/grown/heartbeat', { token, body: grown })).status).toBe(200);
      // The capacities are cached for a few seconds, but a refusal is decided on a fresh read.
      expect((await submit(big)).status).toBe(201);
    });
  });
}
