/**
 * A drain's reason, kept as Slurm keeps it (sinfo -R: REASON, USER, TIMESTAMP) until the node is resumed, and what
 * the node view shows for the console's Nodes page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodes } from '../shared/db/schema.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`drain reasons on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
      await t.database.db.insert(nodes).values([
        { name: 'r1', partitions: ['batch', 'gpu'], cpus: 16, memoryMb: 65536 },
        { name: 'r2', partitions: ['batch'], cpus: 8, memoryMb: 32768 },
      ]);
    });
    afterAll(() => t?.close());

    const node = async (name: string) => {
      const listed = (await (await t.call('GET', '/v1/nodes')).json()) as { nodes: { name: string }[] };
      return listed.nodes.find((entry) => entry.name === name) as Record<string, unknown>;
    };

    it('keeps the reason, who drained and when, and clears them on resume', async () => {
      const drained = await t.call('POST', '/v1/nodes/r1/drain', { body: { reason: 'bad DIMM, ticket #42' } });
      expect(drained.status).toBe(200);
      const view = await drained.json();
      expect(view).toMatchObject({
        state: 'DRAINING',
        reason: 'bad DIMM, ticket #42',
        reason_set_by: 'admin:bootstrap',
      });
      expect(view.reason_set_at).toMatch(ISO_UTC);
      expect(await node('r1')).toEqual(view);
      const again = await (await t.call('POST', '/v1/nodes/r1/drain', { body: { reason: 'firmware update' } })).json();
      expect(again.reason).toBe('firmware update');
      const resumed = await (await t.call('POST', '/v1/nodes/r1/resume')).json();
      expect(resumed).toMatchObject({ state: 'UP', reason: null, reason_set_by: null, reason_set_at: null });
    });

    it('drains without a body or a reason as before, and says who did', async () => {
      for (const options of [{}, { body: {} }]) {
        const view = await (await t.call('POST', '/v1/nodes/r2/drain', options)).json();
        expect(view).toMatchObject({ state: 'DRAINING', reason: null, reason_set_by: 'admin:bootstrap' });
        await t.call('POST', '/v1/nodes/r2/resume');
      }
    });

    it.each([
      ['an empty reason', { reason: '' }, 'reason'],
      ['a reason of 257 characters', { reason: 'x'.repeat(257) }, 'reason'],
      ['a reason with a control character', { reason: 'a\u001b[31mb' }, 'reason'],
      ['a reason that is not text', { reason: 42 }, 'reason'],
      ['an unknown field', { reason: 'ok', state: 'DOWN' }, 'state'],
    ])('refuses %s naming the field, draining nothing', async (_, body, field) => {
      const response = await t.call('POST', '/v1/nodes/r2/drain', { body });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual([field]);
      expect(await node('r2')).toMatchObject({ state: 'UP', reason: null, reason_set_by: null });
    });

    it('takes a reason of 256 characters', async () => {
      const view = await (await t.call('POST', '/v1/nodes/r2/drain', { body: { reason: 'y'.repeat(256) } })).json();
      expect(view.reason).toHaveLength(256);
      await t.call('POST', '/v1/nodes/r2/resume');
    });

    it('shows its running jobs, what they hold of it, its partitions and its last heartbeat', async () => {
      const first = await t.submit(validJob({ partition: 'batch' }));
      const second = await t.submit(validJob({ partition: 'gpu', cpus_per_task: 4 }));
      await moveJob(t.database.db, first, 'RUNNING', { nodeName: 'r1' });
      await moveJob(t.database.db, second, 'RUNNING', { nodeName: 'r1' });
      expect(await node('r1')).toMatchObject({
        partitions: ['batch', 'gpu'],
        running_jobs: 2,
        cpus: 16,
        cpus_allocated: 12,
        memory_mb: 65536,
        memory_allocated_mb: 32768,
        last_heartbeat: null,
        containment: null,
      });
      expect(await node('r2')).toMatchObject({ running_jobs: 0, cpus_allocated: 0 });
      await moveJob(t.database.db, first, 'COMPLETED');
      expect(await node('r1')).toMatchObject({ running_jobs: 1, cpus_allocated: 8 });
      await moveJob(t.database.db, second, 'COMPLETED');
    });
  });
}
