import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodes } from '../shared/db/schema.js';
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
      expect(await beat()).toEqual({ state: 'UP', cancel: [], stop: [] });
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
      });
      const refused = await (
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })
      ).json();
      expect(refused).toEqual({ jobs: [], dropped: [id] });
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
