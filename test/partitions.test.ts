/**
 * Partitions as configured objects (issue 19, item 1): the admin API (PUT, GET, list, DELETE), the one default
 * partition, partitions configured by the nodes that serve them, and DOWN or INACTIVE partitions starting nothing.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pausedPartitionNames } from '../api/partitions/partition-starts.js';
import { Reconciler } from '../api/reconciler.js';
import { queryRows } from '../shared/db/query-rows.js';
import { type TestApp } from './helpers/test-app.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const cancelled = (t: TestApp, id: string) => t.call('POST', `/v1/jobs/${id}/cancel`);

for (const variant of await appsOnQueues()) {
  describe.skipIf(variant.skip)(`partitions on ${variant.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await variant.open();
    });
    afterAll(() => t?.close());

    const put = (name: string, body: Record<string, unknown>, token?: string) =>
      t.call('PUT', `/v1/partitions/${name}`, { body, ...(token ? { token } : {}) });
    const get = async (name: string) => (await t.call('GET', `/v1/partitions/${name}`)).json();
    const defaults = async () =>
      (await queryRows(t.database.db, sql`SELECT name FROM partitions WHERE is_default`)).map((row) => row.name);
    const submit = (partition: string) =>
      t.submit({ account: 'physics', partition, cpus_per_task: 1, memory_per_node: '1G', time_limit: '10:00' });

    it('creates a partition with PUT (201), replaces it with the next (200), and shows it as sent', async () => {
      const created = await put('batch-a', {
        state: 'UP',
        allow_accounts: ['physics'],
        default_time: 30,
        max_time: '1-0',
        max_cpus_per_job: 16,
        max_memory_per_job: '64G',
        priority_tier: 2,
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({
        name: 'batch-a',
        state: 'UP',
        allow_accounts: ['physics'],
        default_time: '00:30:00',
        max_time: '1-00:00:00',
        max_cpus_per_job: 16,
        max_memory_per_job: '64G',
        priority_tier: 2,
        default: false,
        nodes: 0,
        cpus: 0,
      });
      // Replaced whole: what the body leaves out is no limit.
      const replaced = await put('batch-a', { state: 'DRAIN', max_time: 'UNLIMITED' });
      expect(replaced.status).toBe(200);
      expect(await replaced.json()).toMatchObject({
        state: 'DRAIN',
        allow_accounts: null,
        default_time: null,
        max_time: 'UNLIMITED',
        max_cpus_per_job: null,
        max_memory_per_job: null,
        priority_tier: 1,
      });
    });

    it('refuses bad settings with a 422 naming each field', async () => {
      const fields = async (body: Record<string, unknown>) => {
        const response = await put('bad', body);
        expect(response.status).toBe(422);
        return ((await response.json()) as { errors: { field: string }[] }).errors.map((error) => error.field);
      };
      expect(await fields({ state: 'OPEN' })).toEqual(['state']);
      expect(await fields({ max_time: '25:61:00' })).toEqual(['max_time']);
      expect(await fields({ default_time: 'UNLIMITED' })).toEqual(['default_time']);
      expect(await fields({ default_time: '2:00:00', max_time: '1:00:00' })).toEqual(['default_time']);
      expect(await fields({ max_memory_per_job: 'lots' })).toEqual(['max_memory_per_job']);
      expect(await fields({ max_cpus_per_job: 0 })).toEqual(['max_cpus_per_job']);
      expect(await fields({ allow_accounts: ['no spaces'] })).toEqual(['allow_accounts.0']);
      expect(await fields({ MaxTime: '1:00:00' })).toEqual(['MaxTime']);
      expect((await t.call('GET', '/v1/partitions/bad')).status).toBe(404);
    });

    it('lets any token read partitions and only an admin change them', async () => {
      const user = await t.token('user', 'physics', 'alice');
      const node = await t.token('node', 'reader', ['batch-a']);
      for (const token of [user, node]) {
        expect((await t.call('GET', '/v1/partitions', { token })).status).toBe(200);
        expect((await t.call('GET', '/v1/partitions/batch-a', { token })).status).toBe(200);
      }
      expect((await put('batch-a', {}, user)).status).toBe(403);
      expect((await t.call('DELETE', '/v1/partitions/batch-a', { token: user })).status).toBe(403);
    });

    it('keeps exactly one default partition: making one the default takes the mark from the other', async () => {
      expect(await defaults()).toEqual(['default']);
      expect((await put('main', { default: true })).status).toBe(201);
      expect(await defaults()).toEqual(['main']);
      // A PUT that does not say `default` leaves the mark where it is.
      await put('main', { priority_tier: 3 });
      expect(await defaults()).toEqual(['main']);
      await Promise.all([put('default', { default: true }), put('main', { default: true })]);
      expect(await defaults()).toHaveLength(1);
      await put('default', { default: true });
      expect(await defaults()).toEqual(['default']);
      const { partitions } = (await (await t.call('GET', '/v1/partitions')).json()) as {
        partitions: { name: string; default: boolean }[];
      };
      expect(partitions.filter((partition) => partition.default).map((partition) => partition.name)).toEqual([
        'default',
      ]);
    });

    it('deletes a partition only when it is not the default and has no pending or running jobs', async () => {
      const problem = async (response: Response) => {
        expect(response.status).toBe(409);
        return ((await response.json()) as { detail: string }).detail;
      };
      expect(await problem(await t.call('DELETE', '/v1/partitions/default'))).toContain('default partition');
      await put('scratch', {});
      const id = await submit('scratch');
      expect(await problem(await t.call('DELETE', '/v1/partitions/scratch'))).toContain('1 of its jobs');
      await cancelled(t, id);
      expect((await t.call('DELETE', '/v1/partitions/scratch')).status).toBe(204);
      expect((await t.call('GET', '/v1/partitions/scratch')).status).toBe(404);
      expect((await t.call('DELETE', '/v1/partitions/scratch')).status).toBe(404);
      // Its finished job keeps the name; a new one is refused.
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).partition).toBe('scratch');
      await expect(submit('scratch')).rejects.toThrow(/422/);
    });

    it('configures the partitions a node serves when it registers, and writes nothing when they exist', async () => {
      const beat = (partitions: string[]) =>
        t.call('POST', '/v1/nodes/n-new/heartbeat', { body: { partitions, cpus: 4, memory_mb: 8000 } });
      expect((await beat(['served-1', 'served-2'])).status).toBe(200);
      expect(await get('served-1')).toMatchObject({
        state: 'UP',
        nodes: 1,
        nodes_up: 1,
        cpus: 4,
        max_time: 'UNLIMITED',
      });
      // The row's version (xmin) stays as it is through later heartbeats: they read, they do not write.
      const version = async () =>
        (await queryRows(t.database.db, sql`SELECT xmin::text AS v FROM partitions WHERE name = 'served-1'`))[0]!.v;
      const before = await version();
      await put('served-1', { state: 'DOWN' });
      const changed = await version();
      expect(changed).not.toBe(before);
      expect((await beat(['served-1', 'served-2'])).status).toBe(200);
      expect(await version()).toBe(changed);
      // An admin's setting is not undone by the node serving it.
      expect(await get('served-1')).toMatchObject({ state: 'DOWN' });
    });

    it('configures the partitions an admin grants a node token', async () => {
      await t.token('node', 'n-granted', ['granted-1']);
      expect(await get('granted-1')).toMatchObject({ name: 'granted-1', state: 'UP', nodes: 0 });
    });

    it('starts no job of a DOWN or INACTIVE partition: claims skip it, a claim made before the change goes back at the confirm', async () => {
      const capacity = { partitions: ['gated'], cpus: 8, memory_mb: 16_000 };
      const node = await t.token('node', 'n-gate', ['gated']);
      expect((await t.call('POST', '/v1/nodes/n-gate/heartbeat', { token: node, body: capacity })).status).toBe(200);
      // As a daemon claims (straight from Redis, or through the API from the Postgres queue).
      const claim = async () =>
        (
          await t.queue.claim({
            node: 'n-gate',
            partitions: ['gated'],
            cpus: 8,
            memoryMb: 16_000,
            freeCpus: 8,
            freeMemoryMb: 16_000,
            runsAs: { any_user: false, users: [], unnamed: true },
          })
        ).map((ref) => String(ref.id));
      const confirm = async (id: string) => {
        const answer = await t.call('POST', '/v1/nodes/n-gate/confirm', { token: node, body: { job_ids: [id] } });
        return ((await answer.json()) as { jobs: { id: string }[] }).jobs.map((job) => job.id);
      };
      const claimAndConfirm = async (id: string) => {
        expect(await claim()).toEqual([id]);
        return confirm(id);
      };
      for (const state of ['DOWN', 'INACTIVE']) {
        await put('gated', { state: 'UP' });
        const id = await submit('gated');
        // Claimed while UP, confirmed after the change: the confirm decides, and puts the ref back in the queue.
        expect(await claim()).toEqual([id]);
        await put('gated', { state });
        expect(await pausedPartitionNames(t.database.db)).toContain('gated');
        expect(await confirm(id)).toEqual([]);
        expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('PENDING');
        expect(await t.queue.missing([Number(id)])).toEqual([]);
        // The PUT paused the partition in the queue: no claim takes the ref until it is UP again.
        expect(await claim()).toEqual([]);
        await put('gated', { state: 'UP' });
        expect(await claimAndConfirm(id)).toEqual([id]);
        await cancelled(t, id);
      }
      for (const state of ['UP', 'DRAIN']) {
        await put('gated', { state: 'UP' });
        const id = await submit('gated');
        await put('gated', { state });
        expect(await pausedPartitionNames(t.database.db)).not.toContain('gated');
        expect(await claimAndConfirm(id)).toEqual([id]);
        await cancelled(t, id);
      }
    });

    it("rebuilds the queue's paused set from Postgres on every reconciler run (a flushed Redis forgets it)", async () => {
      await put('flushed', { state: 'DOWN' });
      await t.queue.pausePartitions([]);
      const result = await new Reconciler(t.queue).run(t.database.db);
      expect(result.paused).toContain('flushed');
      const id = await submit('flushed');
      const claim = () =>
        t.queue.claim({
          node: 'n-flushed',
          partitions: ['flushed'],
          cpus: 8,
          memoryMb: 16_000,
          freeCpus: 8,
          freeMemoryMb: 16_000,
          runsAs: { any_user: false, users: [], unnamed: true },
        });
      expect(await claim()).toEqual([]);
      await put('flushed', { state: 'UP' });
      expect((await claim()).map((ref) => String(ref.id))).toEqual([id]);
      await t.queue.release('n-flushed', [Number(id)]);
      await cancelled(t, id);
    });
  });
}
